#include "eval/tasks/phonebook.h"

#include <fmt/format.h>

#include <stdexcept>

namespace griffin::eval {

Phonebook::Phonebook(PhonebookOptions o) : o_(o) {
  if (o_.entries < 1 || o_.digits < 1 || o_.names < 1) {
    throw std::invalid_argument("phonebook: entries, digits and names must be >= 1");
  }
  if (o_.entries > o_.names * o_.names) {
    throw std::invalid_argument(fmt::format("phonebook: {} entries need more than {} x {} names",
                                            o_.entries, o_.names, o_.names));
  }
}

int64_t Phonebook::seq_len() const {
  return o_.entries * EntryLength() + 3 + o_.digits - 1;  // the book, "first last :", digits
}

TaskBatch Phonebook::Batch(int64_t batch, uint64_t seed, int64_t index) const {
  Rng rng(BatchSeed(seed, index));
  const int64_t L = seq_len(), E = o_.entries, k = o_.digits;
  BatchBuilder out(batch, L, 0);
  for (int64_t b = 0; b < batch; ++b) {
    int64_t* row = out.row(b);
    // Distinct (first, last) pairs: distinct indices of the names x names grid.
    const std::vector<int64_t> people = rng.Distinct(0, o_.names * o_.names, E);
    std::vector<std::vector<int64_t>> numbers(static_cast<size_t>(E));
    int64_t t = 0;
    for (int64_t e = 0; e < E; ++e) {
      row[t++] = kFirstName + people[e] / o_.names;
      row[t++] = kFirstName + o_.names + people[e] % o_.names;
      row[t++] = kColon;
      for (int64_t i = 0; i < k; ++i) {
        numbers[e].push_back(kFirstDigit + rng.Uniform(0, 10));
        row[t++] = numbers[e].back();
      }
      row[t++] = kSemicolon;
    }
    const int64_t asked = rng.Uniform(0, E);
    row[t++] = kFirstName + people[asked] / o_.names;
    row[t++] = kFirstName + o_.names + people[asked] % o_.names;
    row[t++] = kColon;
    const int64_t first_answer_input = t - 1;
    for (int64_t i = 0; i + 1 < k; ++i) row[t++] = numbers[asked][i];
    for (int64_t i = 0; i < k; ++i) {
      out.Score(b, first_answer_input + i, numbers[asked][i],
                first_answer_input - (asked * EntryLength() + 2));
    }
  }
  return out.Finish();
}

}  // namespace griffin::eval
