// cuLaunchKernel: checks the launch as the driver does, then runs the grid to completion on the calling thread.
#include "driver.h"

#include <cstdio>
#include <string>

using namespace xmc_driver;

namespace xmc_driver
{
namespace
{
unsigned long long launches = 0;
} // namespace
} // namespace xmc_driver

XMC_API CUresult cuLaunchKernel(Function* function, unsigned int gridX, unsigned int gridY, unsigned int gridZ,
    unsigned int blockX, unsigned int blockY, unsigned int blockZ, unsigned int sharedMemBytes, Stream* stream,
    void** kernelParams, void** extra)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuLaunchKernel");
    if (functions.count(function) == 0) return failWith(CUDA_ERROR_INVALID_HANDLE, "cuLaunchKernel: not a function of a loaded module");
    const char* name = function->kernel->name;
    if (CUresult r = checkStream(stream, "cuLaunchKernel")) return r;
    char shape[160];
    std::snprintf(shape, sizeof shape, "grid %ux%ux%u, block %ux%ux%u, %u bytes of dynamic shared memory", gridX, gridY, gridZ,
        blockX, blockY, blockZ, sharedMemBytes);
    const unsigned long long threads = (unsigned long long)blockX * blockY * blockZ;
    if (gridX == 0 || gridY == 0 || gridZ == 0 || gridX > 2147483647u || gridY > 65535 || gridZ > 65535)
        return failWith(CUDA_ERROR_INVALID_VALUE, std::string("cuLaunchKernel ") + name + ": grid out of range (" + shape + ")");
    if (threads > 1024)
        return failWith(CUDA_ERROR_INVALID_VALUE, std::string("cuLaunchKernel ") + name + ": " + std::to_string(threads) +
            " threads per block, over the limit of 1024 (" + shape + ")");
    if (threads == 0 || blockY > 1024 || blockZ > 64)
        return failWith(CUDA_ERROR_INVALID_VALUE, std::string("cuLaunchKernel ") + name + ": block dimension out of range (" + shape + ")");
    if (sharedMemBytes > 49152)
        return failWith(CUDA_ERROR_INVALID_VALUE, std::string("cuLaunchKernel ") + name + ": dynamic shared memory over the 49152-byte limit (" + shape + ")");
    if (extra != nullptr) return failWith(CUDA_ERROR_NOT_SUPPORTED, std::string("cuLaunchKernel ") + name + ": the emulator takes kernelParams, not extra");
    if (kernelParams == nullptr && function->kernel->paramCount > 0)
        return failWith(CUDA_ERROR_INVALID_VALUE, std::string("cuLaunchKernel ") + name + ": no kernelParams for " +
            std::to_string(function->kernel->paramCount) + " parameters");
    const std::string error = xmc_emu::runGrid(*function->kernel, dim3{gridX, gridY, gridZ}, dim3{blockX, blockY, blockZ},
        kernelParams, xmc_emu::scheduleFromEnvironment(), launches++);
    if (!error.empty()) return failWith(CUDA_ERROR_LAUNCH_FAILED, error + " (" + shape + ")");
    return CUDA_SUCCESS;
}
