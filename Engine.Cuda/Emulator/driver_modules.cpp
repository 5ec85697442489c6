// Modules and kernel lookup: cuModuleLoadData reads the kernel names an NVRTC image defines (cubin or PTX), and
// cuModuleGetFunction finds each among the kernels the emulator was built with.
#include "driver.h"

#include <cstdlib>
#include <cstring>
#include <string>

using namespace xmc_driver;

namespace xmc_driver
{
std::set<Module*> modules;
std::set<Function*> functions;

namespace
{
// Kernel names an image defines: `.entry name` in PTX; global FUNC symbols of an ELF cubin. Also the target.
CUresult parseImage(const void* image, std::set<std::string>& names)
{
    const unsigned char* b = static_cast<const unsigned char*>(image);
    if (b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' && b[3] == 'F')
    {
        if (b[4] != 2) return failWith(CUDA_ERROR_INVALID_IMAGE, "cuModuleLoadData: not a 64-bit ELF cubin");
        unsigned int flags;
        std::memcpy(&flags, b + 48, 4);
        const unsigned int arch = flags & 0xff;
        if (arch > 80 || arch / 10 != 8)
        {
            return failWith(CUDA_ERROR_NO_BINARY_FOR_GPU, "cuModuleLoadData: cubin for sm_" + std::to_string(arch) +
                "; the emulated device is compute capability 8.0");
        }
        unsigned long long shoff;
        unsigned short shentsize, shnum;
        std::memcpy(&shoff, b + 40, 8);
        std::memcpy(&shentsize, b + 58, 2);
        std::memcpy(&shnum, b + 60, 2);
        for (unsigned i = 0; i < shnum; i++)
        {
            const unsigned char* sh = b + shoff + (unsigned long long)i * shentsize;
            unsigned int type, link;
            unsigned long long offset, size, entsize;
            std::memcpy(&type, sh + 4, 4);
            if (type != 2) continue; // SHT_SYMTAB
            std::memcpy(&offset, sh + 24, 8);
            std::memcpy(&size, sh + 32, 8);
            std::memcpy(&link, sh + 40, 4);
            std::memcpy(&entsize, sh + 56, 8);
            const unsigned char* strtab = b + shoff + (unsigned long long)link * shentsize;
            unsigned long long strOffset;
            std::memcpy(&strOffset, strtab + 24, 8);
            for (unsigned long long s = 0; entsize != 0 && s < size / entsize; s++)
            {
                const unsigned char* sym = b + offset + s * entsize;
                unsigned int nameAt;
                std::memcpy(&nameAt, sym, 4);
                const unsigned char info = sym[4];
                if ((info & 0xf) == 2 && (info >> 4) == 1) // STT_FUNC, STB_GLOBAL
                {
                    names.insert(reinterpret_cast<const char*>(b + strOffset + nameAt));
                }
            }
        }
        return CUDA_SUCCESS;
    }
    const char* text = static_cast<const char*>(image);
    if (std::strstr(text, ".version") == nullptr || std::strstr(text, ".target") == nullptr)
    {
        return failWith(CUDA_ERROR_INVALID_IMAGE, "cuModuleLoadData: neither an ELF cubin nor PTX text");
    }
    const char* target = std::strstr(text, ".target sm_");
    if (target != nullptr && std::atoi(target + 11) > 80)
    {
        return failWith(CUDA_ERROR_NO_BINARY_FOR_GPU, std::string("cuModuleLoadData: PTX for sm_") + std::to_string(std::atoi(target + 11)) +
            "; the emulated device is compute capability 8.0");
    }
    for (const char* p = std::strstr(text, ".entry"); p != nullptr; p = std::strstr(p + 6, ".entry"))
    {
        const char* n = p + 6;
        while (*n == ' ' || *n == '\t') n++;
        const char* e = n;
        while ((*e >= 'a' && *e <= 'z') || (*e >= 'A' && *e <= 'Z') || (*e >= '0' && *e <= '9') || *e == '_' || *e == '$') e++;
        if (e > n) names.insert(std::string(n, e));
    }
    return CUDA_SUCCESS;
}
} // namespace
} // namespace xmc_driver

XMC_API CUresult cuModuleLoadData(Module** module, const void* image)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuModuleLoadData");
    if (module == nullptr || image == nullptr) return failWith(CUDA_ERROR_INVALID_VALUE, "cuModuleLoadData: null pointer");
    std::set<std::string> names;
    if (CUresult r = parseImage(image, names)) return r;
    auto* m = new Module();
    m->names = std::move(names);
    modules.insert(m);
    *module = m;
    return CUDA_SUCCESS;
}

XMC_API CUresult cuModuleUnload(Module* module)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuModuleUnload");
    if (modules.erase(module) == 0) return failWith(CUDA_ERROR_INVALID_HANDLE, "cuModuleUnload: not a loaded module");
    for (Function* f : module->functions)
    {
        functions.erase(f);
        delete f;
    }
    delete module;
    return CUDA_SUCCESS;
}

XMC_API CUresult cuModuleGetFunction(Function** function, Module* module, const char* name)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuModuleGetFunction");
    if (function == nullptr || name == nullptr) return failWith(CUDA_ERROR_INVALID_VALUE, "cuModuleGetFunction: null pointer");
    if (modules.count(module) == 0) return failWith(CUDA_ERROR_INVALID_HANDLE, "cuModuleGetFunction: not a loaded module");
    if (module->names.count(name) == 0)
    {
        return failWith(CUDA_ERROR_NOT_FOUND, std::string("cuModuleGetFunction: the module has no kernel named ") + name);
    }
    const xmc_emu::KernelInfo* kernel = xmc_emu::findKernel(name);
    if (kernel == nullptr)
    {
        return failWith(CUDA_ERROR_NOT_FOUND, std::string("cuModuleGetFunction: kernel ") + name +
            " is in the image, but the emulator was not built with it (rebuild it: scripts/build-cuda-emulator.sh)");
    }
    auto* f = new Function();
    f->kernel = kernel;
    f->module = module;
    module->functions.push_back(f);
    functions.insert(f);
    *function = f;
    return CUDA_SUCCESS;
}

// ------------------------------------------------------------------------------------- emulator extensions

// The names of the kernels the emulator was built with, separated by '\n' (for the registration test).
XMC_API const char* xmc_emulator_kernel_names()
{
    static std::string names;
    std::lock_guard<std::recursive_mutex> lock(gate);
    if (names.empty())
    {
        for (const auto* k : xmc_emu::allKernels()) names += std::string(k->name) + "\n";
    }
    return names.c_str();
}
