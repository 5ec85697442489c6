// The registry of the kernels the emulator was built with (each registered by name at load), and the schedule
// XMC_CUDA_EMULATOR_SCHEDULE asks for.
#include "runtime_launch.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

namespace xmc_emu
{
// ---------------------------------------------------------------------------------------------------- registry

static std::map<std::string, KernelInfo>& registry()
{
    static std::map<std::string, KernelInfo> kernels;
    return kernels;
}

void registerKernel(const KernelInfo& info)
{
    auto& kernels = registry();
    if (kernels.count(info.name) != 0)
    {
        std::fprintf(stderr, "xmc cuda emulator: kernel %s is defined twice (%s and %s)\n", info.name,
            kernels[info.name].file, info.file);
        std::abort();
    }
    kernels[info.name] = info;
}

const KernelInfo* findKernel(const std::string& name)
{
    auto& kernels = registry();
    auto it = kernels.find(name);
    return it == kernels.end() ? nullptr : &it->second;
}

std::vector<const KernelInfo*> allKernels()
{
    std::vector<const KernelInfo*> all;
    for (auto& entry : registry()) all.push_back(&entry.second);
    return all;
}

Schedule scheduleFromEnvironment()
{
    Schedule s;
    const char* value = std::getenv("XMC_CUDA_EMULATOR_SCHEDULE");
    if (value != nullptr && std::strncmp(value, "shuffle", 7) == 0)
    {
        s.shuffled = true;
        s.seed = value[7] == ':' ? std::strtoull(value + 8, nullptr, 10) : 1;
    }
    return s;
}
} // namespace xmc_emu
