// Proves the AddressSanitizer build of the emulator reports an out-of-bounds access inside a kernel, naming the
// kernel: loads libcuda.so.1 from the folder given, launches check_out_of_bounds over 64 floats with 65 threads,
// and is expected to die with a sanitizer report (scripts/cuda-emulator-test.sh --sanitize checks the report).
// Exit 0 means the write went unnoticed.
#include <cstdio>
#include <dlfcn.h>
#include <string>

int main(int argc, char** argv)
{
    if (argc != 2)
    {
        std::fprintf(stderr, "usage: asan_probe <folder of libcuda.so.1>\n");
        return 2;
    }
    void* lib = dlopen((std::string(argv[1]) + "/libcuda.so.1").c_str(), RTLD_NOW);
    if (lib == nullptr)
    {
        std::fprintf(stderr, "asan_probe: %s\n", dlerror());
        return 2;
    }
    auto sym = [&](const char* name) { return dlsym(lib, name); };
    auto cuInit = (int (*)(unsigned))sym("cuInit");
    auto retain = (int (*)(void**, int))sym("cuDevicePrimaryCtxRetain");
    auto setCurrent = (int (*)(void*))sym("cuCtxSetCurrent");
    auto alloc = (int (*)(unsigned long*, size_t))sym("cuMemAlloc_v2");
    auto load = (int (*)(void**, const void*))sym("cuModuleLoadData");
    auto get = (int (*)(void**, void*, const char*))sym("cuModuleGetFunction");
    auto launch = (int (*)(void*, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void*, void**, void**))sym("cuLaunchKernel");
    void* context = nullptr;
    void* module = nullptr;
    void* function = nullptr;
    unsigned long out = 0;
    const char* ptx = ".version 7.8\n.target sm_80\n.address_size 64\n.visible .entry check_out_of_bounds(\n)\n";
    if (cuInit(0) || retain(&context, 0) || setCurrent(context) || alloc(&out, 64 * sizeof(float)) || load(&module, ptx) ||
        get(&function, module, "check_out_of_bounds"))
    {
        std::fprintf(stderr, "asan_probe: the driver calls before the launch failed\n");
        return 2;
    }
    long long n = 64;
    void* params[] = {&out, &n};
    const int r = launch(function, 1, 1, 1, 65, 1, 1, 0, nullptr, params, nullptr);
    std::printf("asan_probe: the launch returned %d and nothing reported the write past the end\n", r);
    return 0;
}
