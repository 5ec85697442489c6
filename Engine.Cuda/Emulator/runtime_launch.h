// Internals shared by the files of the emulator's runtime (runtime_*.cpp): the state of a launch (its block's
// CUDA threads, each a fiber with its own stack) and the switches between a fiber and the block scheduler.
#pragma once

#include "runtime.h"

#include <string>
#include <vector>

#if !defined(__x86_64__)
#define XMC_EMU_UCONTEXT 1
#include <ucontext.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer is told about every switch between the scheduler's stack and a fiber's.
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define XMC_EMU_ASAN 1
#endif

namespace xmc_emu
{
struct Stack
{
    char* base;
    size_t size;
};

enum class State { NotStarted, Runnable, AtBarrier, AtWarp, Done };

struct Thread
{
    ThreadView view;
    int linear = 0, lane = 0, warp = 0;
    State state = State::NotStarted;
    const char* file = nullptr; // where it waits
    int line = 0;
    Stack stack{};
    bool hasStack = false;
#ifdef XMC_EMU_UCONTEXT
    ucontext_t context;
#else
    void* sp = nullptr;
#endif
    // Warp collectives: the number this lane has arrived at, and the last two (by parity).
    unsigned long long arrivals = 0;
    // The collective (by arrival number) that the last lane to arrive has checked and released this lane from.
    unsigned long long released = 0;
    unsigned long long value[2] = {0, 0};
    unsigned mask[2] = {0, 0};
    Collective kind[2] = {Collective::ShflDown, Collective::ShflDown};
    const char* cfile[2] = {nullptr, nullptr};
    int cline[2] = {0, 0};
};

struct Launch
{
    const KernelInfo* kernel = nullptr;
    void** params = nullptr;
    Grid grid{};
    std::vector<Thread> threads;
    int blockThreads = 0;
    unsigned long long progress = 0; // bumped whenever a thread arrives somewhere new
    std::string error;
    Thread* current = nullptr;
    const void* schedulerStack = nullptr; // bounds of the scheduler's stack, for AddressSanitizer
    size_t schedulerStackSize = 0;
#ifdef XMC_EMU_UCONTEXT
    ucontext_t scheduler;
#else
    void* schedulerSp = nullptr;
#endif
};

// The launch running on this OS thread (runGrid sets it).
extern thread_local Launch* currentLaunch __attribute__((tls_model("initial-exec")));

// "file:line" (the file without its folders), or "?".
std::string where(const char* file, int line);
std::string describeThread(const Launch& launch, const Thread& t);

// Back to the scheduler from a fiber (for good when the fiber has finished).
void yieldToScheduler(bool finished = false);

// Ends the launch from inside a fiber: the scheduler abandons every fiber of the block.
[[noreturn]] void fail(const std::string& message);

// Gives a finished fiber's stack back to the pool.
void giveStack(Stack s);

// The threads of a warp (the last warp of a block may have fewer than 32).
int lanesInWarp(const Launch& launch, int warp);

// Runs t until it yields (starting its fiber the first time).
void resume(Launch& launch, Thread& t);
} // namespace xmc_emu
