// Fibers of the CUDA emulator (its runtime: runtime_*.cpp). A block's CUDA threads are fibers
// on the launching OS thread; a fiber runs until it reaches __syncthreads(), a warp collective or its end, and
// the scheduler then picks the next one (in order, or in a seeded shuffle of warps and lanes). Divergent or
// partial barriers, bad shuffle masks and deadlocks end the launch with a message naming the kernel and line.
// This file: fiber stacks, the context switch, and starting, resuming and leaving a fiber.
#include "runtime_launch.h"

#include <cstdlib>
#include <cstring>
#include <sstream>
#include <sys/mman.h>
#include <unistd.h>

namespace xmc_emu
{
// ------------------------------------------------------------------------------------------------------ fibers

#ifdef XMC_EMU_ASAN
static const size_t StackBytes = 512 * 1024;
#else
static const size_t StackBytes = 128 * 1024;
#endif

// Fiber stacks, reused from launch to launch (a guard page below each).
static std::vector<Stack>& stackPool()
{
    static thread_local std::vector<Stack> pool;
    return pool;
}

static Stack takeStack()
{
    auto& pool = stackPool();
    if (!pool.empty())
    {
        Stack s = pool.back();
        pool.pop_back();
        return s;
    }
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    void* p = mmap(nullptr, StackBytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
    {
        std::fprintf(stderr, "xmc cuda emulator: cannot map a fiber stack\n");
        std::abort();
    }
    mprotect(p, page, PROT_NONE);
    return Stack{static_cast<char*>(p) + page, StackBytes};
}

void giveStack(Stack s) { stackPool().push_back(s); }

#ifndef XMC_EMU_UCONTEXT
extern "C" void xmc_fiber_switch(void** save, void* next);
extern "C" void xmc_fiber_start();
// Saves the callee-saved registers, MXCSR and the x87 control word on the current stack, stores the stack
// pointer in *save, and resumes the stack `next` (System V x86-64).
asm(R"(
    .text
    .p2align 4
    .globl xmc_fiber_switch
    .hidden xmc_fiber_switch
    .type xmc_fiber_switch, @function
xmc_fiber_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size xmc_fiber_switch, .-xmc_fiber_switch

    .p2align 4
    .globl xmc_fiber_start
    .hidden xmc_fiber_start
    .type xmc_fiber_start, @function
xmc_fiber_start:
    movq %r12, %rdi
    callq *%r13
    ud2
    .size xmc_fiber_start, .-xmc_fiber_start
)");
#endif

thread_local Launch* currentLaunch __attribute__((tls_model("initial-exec"))) = nullptr;

std::string where(const char* file, int line)
{
    if (file == nullptr) return "?";
    const char* slash = std::strrchr(file, '/');
    std::ostringstream s;
    s << (slash ? slash + 1 : file) << ":" << line;
    return s.str();
}

std::string describeThread(const Launch& launch, const Thread& t)
{
    std::ostringstream s;
    s << "thread (" << t.view.index.x << "," << t.view.index.y << "," << t.view.index.z << ") of block ("
      << launch.grid.blockIndex.x << "," << launch.grid.blockIndex.y << "," << launch.grid.blockIndex.z << ")";
    return s.str();
}

// Back to the scheduler from a fiber (for good when the fiber has finished).
void yieldToScheduler(bool finished)
{
    Launch& launch = *currentLaunch;
    Thread* self = launch.current;
#ifdef XMC_EMU_ASAN
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(finished ? nullptr : &fake, launch.schedulerStack, launch.schedulerStackSize);
#else
    (void)finished;
#endif
#ifdef XMC_EMU_UCONTEXT
    swapcontext(&self->context, &launch.scheduler);
#else
    xmc_fiber_switch(&self->sp, launch.schedulerSp);
#endif
#ifdef XMC_EMU_ASAN
    __sanitizer_finish_switch_fiber(fake, &launch.schedulerStack, &launch.schedulerStackSize);
#endif
}

// Ends the launch from inside a fiber: the scheduler abandons every fiber of the block.
[[noreturn]] void fail(const std::string& message)
{
    Launch& launch = *currentLaunch;
    if (launch.error.empty()) launch.error = message;
    yieldToScheduler(true);
    std::abort(); // never resumed
}

static void fiberMain(void*)
{
    Launch& launch = *currentLaunch;
#ifdef XMC_EMU_ASAN
    __sanitizer_finish_switch_fiber(nullptr, &launch.schedulerStack, &launch.schedulerStackSize);
#endif
    launch.kernel->invoke(launch.kernel->function, launch.params);
    launch.current->state = State::Done;
    launch.progress++;
    yieldToScheduler(true);
    std::abort(); // never resumed
}

#ifdef XMC_EMU_UCONTEXT
static void fiberEntryUcontext() { fiberMain(nullptr); }
#endif

static void startFiber(Launch& launch, Thread& t)
{
    t.stack = takeStack();
    t.hasStack = true;
#ifdef XMC_EMU_UCONTEXT
    getcontext(&t.context);
    t.context.uc_stack.ss_sp = t.stack.base;
    t.context.uc_stack.ss_size = t.stack.size;
    t.context.uc_link = nullptr;
    makecontext(&t.context, fiberEntryUcontext, 0);
    (void)launch;
#else
    (void)launch;
    auto* top = reinterpret_cast<unsigned long long*>(t.stack.base + t.stack.size);
    auto* sp = top - 8; // 64 bytes: control words, r15..r12, rbx, rbp, return address; 16-byte aligned
    unsigned int mxcsr;
    unsigned short fpucw;
    asm volatile("stmxcsr %0" : "=m"(mxcsr));
    asm volatile("fnstcw %0" : "=m"(fpucw));
    sp[0] = (unsigned long long)mxcsr | ((unsigned long long)fpucw << 32);
    sp[1] = 0;                                            // r15
    sp[2] = 0;                                            // r14
    sp[3] = reinterpret_cast<unsigned long long>(&fiberMain); // r13: entry
    sp[4] = 0;                                            // r12: argument
    sp[5] = 0;                                            // rbx
    sp[6] = 0;                                            // rbp
    sp[7] = reinterpret_cast<unsigned long long>(&xmc_fiber_start);
    t.sp = sp;
#endif
    t.state = State::Runnable;
}

// Runs t until it yields.
void resume(Launch& launch, Thread& t)
{
    if (t.state == State::NotStarted) startFiber(launch, t);
    launch.current = &t;
    currentView = &t.view;
#ifdef XMC_EMU_ASAN
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(&fake, t.stack.base, t.stack.size);
#endif
#ifdef XMC_EMU_UCONTEXT
    swapcontext(&launch.scheduler, &t.context);
#else
    xmc_fiber_switch(&launch.schedulerSp, t.sp);
#endif
#ifdef XMC_EMU_ASAN
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
    launch.current = nullptr;
    if (t.state == State::Done && t.hasStack)
    {
        giveStack(t.stack);
        t.hasStack = false;
    }
}
} // namespace xmc_emu
