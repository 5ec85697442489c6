// Internals shared by the emulator's runtime (fibers, block scheduler, kernel registry) and its driver API.
#pragma once

#include "emu.h"

#include <string>
#include <vector>

namespace xmc_emu
{
// The order in which the fibers of a block, and the blocks of a grid, are run between synchronization points.
struct Schedule
{
    bool shuffled = false;
    unsigned long long seed = 0;
};

// The schedule from XMC_CUDA_EMULATOR_SCHEDULE: "inorder" (default) or "shuffle:<seed>".
Schedule scheduleFromEnvironment();

const KernelInfo* findKernel(const std::string& name);
std::vector<const KernelInfo*> allKernels();

// Runs a grid to completion on the calling OS thread. Returns an empty string on success, else what went wrong
// (naming the kernel and, where known, the source line).
std::string runGrid(const KernelInfo& kernel, dim3 grid, dim3 block, void** params, const Schedule& schedule,
    unsigned long long launchIndex);
} // namespace xmc_emu
