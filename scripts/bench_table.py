#!/usr/bin/env python3
"""Short markdown table from a Google Benchmark JSON file written by griffin_microbench."""
import json
import sys


def main(path: str) -> None:
    with open(path) as f:
        data = json.load(f)
    ctx = data.get("context", {})
    print(f"commit {ctx.get('git_commit', '?')} (dirty: {ctx.get('git_dirty', '?')}), "
          f"GPU {ctx.get('gpu', '?')}, driver {ctx.get('driver', '?')}")
    print(f"host {ctx.get('host_name', '?')}, {ctx.get('date', '?')}, "
          f"{ctx.get('num_cpus', '?')} CPUs (Google Benchmark library built as "
          f"{ctx.get('library_build_type', '?')}; the harness itself is Release)")
    print("| benchmark | median (us) | GB/s | of 4.25 TB/s | speedup vs reference |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for b in data.get("benchmarks", []):
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        if "error_message" in b:
            print(f"| {b['name']} | error: {b['error_message']} | | | |")
            continue
        frac = b.get("ceiling_frac", 0.0)
        speedup = b.get("speedup_vs_ref", 0.0)
        speedup_text = f"{speedup:.1f}x" if speedup else "-"
        frac_text = f"{frac * 100:.1f}%" if frac else "- (CPU)"
        print(f"| {b['name']} | {b['median_us']:.1f} | {b.get('GB/s', 0.0):.1f} | "
              f"{frac_text} | {speedup_text} |")


if __name__ == "__main__":
    main(sys.argv[1])
