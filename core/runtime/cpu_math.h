// Bitwise-reproducible CPU matrix products. LibTorch's CPU matmuls go to MKL, whose threaded
// kernels split work between their threads as the threads arrive: on a loaded machine the split
// changes and so does the rounding. The RG-LRU's sqrt(1 - a^2) with a near 1 magnifies such a
// difference about 500 times, so the tiny RecurrentGemma fixture's logits moved from 8.9e-7 to
// 1.5e-4 off the official outputs in 4-5 runs of 160 with four runs at once on two cores
// (2026-12-01); with MKL's conditional numerical reproducibility (MKL_CBWR=AVX2,STRICT), 0 in 160
// from the environment and 0 in 320 from this function.
#pragma once

namespace griffin {

// Asks MKL for reproducible results (MKL_CBWR: AVX2,STRICT where the CPU has AVX2, else
// COMPATIBLE) unless the environment already says otherwise. Call first thing in main(): MKL
// reads the variable once, at its first call.
void RequestReproducibleCpuMath();

}  // namespace griffin
