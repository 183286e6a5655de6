// Phonebook lookup in token form (docs/EVALS.md section 2: Jelassi et al.; Griffin's Fig. 6c):
// entries "first last : d1 .. dk ;" with distinct names, then "first last :" of one entry, whose
// digits are scored. The sequence length follows from the number of entries (the x axis of the
// task).
#pragma once

#include "eval/tasks/task.h"

namespace griffin::eval {

struct PhonebookOptions {
  int64_t entries = 20;
  int64_t digits = 4;
  int64_t names = 64;  // distinct first names and last names each
};

class Phonebook : public SyntheticTask {
 public:
  // Token layout: 0 ':', 1 ';', 2..11 digits, then first names, then last names.
  static constexpr int64_t kColon = 0, kSemicolon = 1, kFirstDigit = 2, kFirstName = 12;
  explicit Phonebook(PhonebookOptions o);
  std::string name() const override { return "phonebook"; }
  int64_t vocab_size() const override { return kFirstName + 2 * o_.names; }
  int64_t seq_len() const override;
  int64_t answers_per_example() const override { return o_.digits; }
  TaskBatch Batch(int64_t batch, uint64_t seed, int64_t index) const override;

 private:
  int64_t EntryLength() const { return 4 + o_.digits; }
  PhonebookOptions o_;
};

}  // namespace griffin::eval
