// Fibers, the block scheduler and the kernel registry of the CUDA emulator. A block's CUDA threads are fibers
// on the launching OS thread; a fiber runs until it reaches __syncthreads(), a warp collective or its end, and
// the scheduler then picks the next one (in order, or in a seeded shuffle of warps and lanes). Divergent or
// partial barriers, bad shuffle masks and deadlocks end the launch with a message naming the kernel and line.
#include "runtime.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <sstream>
#include <sys/mman.h>
#include <unistd.h>

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
thread_local ThreadView* currentView __attribute__((tls_model("initial-exec"))) = nullptr;
thread_local Grid* currentGrid __attribute__((tls_model("initial-exec"))) = nullptr;

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

// ------------------------------------------------------------------------------------------------------ fibers

#ifdef XMC_EMU_ASAN
static const size_t StackBytes = 512 * 1024;
#else
static const size_t StackBytes = 128 * 1024;
#endif

struct Stack
{
    char* base;
    size_t size;
};

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

static void giveStack(Stack s) { stackPool().push_back(s); }

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

// ---------------------------------------------------------------------------------------------------- threads

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

static thread_local Launch* currentLaunch __attribute__((tls_model("initial-exec"))) = nullptr;

static std::string where(const char* file, int line)
{
    if (file == nullptr) return "?";
    const char* slash = std::strrchr(file, '/');
    std::ostringstream s;
    s << (slash ? slash + 1 : file) << ":" << line;
    return s.str();
}

static std::string describeThread(const Launch& launch, const Thread& t)
{
    std::ostringstream s;
    s << "thread (" << t.view.index.x << "," << t.view.index.y << "," << t.view.index.z << ") of block ("
      << launch.grid.blockIndex.x << "," << launch.grid.blockIndex.y << "," << launch.grid.blockIndex.z << ")";
    return s.str();
}

// Back to the scheduler from a fiber (for good when the fiber has finished).
static void yieldToScheduler(bool finished = false)
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
[[noreturn]] static void fail(const std::string& message)
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
static void resume(Launch& launch, Thread& t)
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

// ------------------------------------------------------------------------------------- barrier and collectives

void syncthreads(const char* file, int line)
{
    Launch& launch = *currentLaunch;
    Thread& self = *launch.current;
    self.state = State::AtBarrier;
    self.file = file;
    self.line = line;
    launch.progress++;
    yieldToScheduler(); // the scheduler makes it runnable again when the whole block has arrived
}

static int lanesInWarp(const Launch& launch, int warp)
{
    return std::min(32, launch.blockThreads - 32 * warp);
}

static const char* collectiveName(Collective kind)
{
    switch (kind)
    {
        case Collective::ShflDown: return "__shfl_down_sync";
        case Collective::ShflUp: return "__shfl_up_sync";
        case Collective::ShflXor: return "__shfl_xor_sync";
        case Collective::Shfl: return "__shfl_sync";
        case Collective::Ballot: return "__ballot_sync";
        case Collective::Any: return "__any_sync";
        default: return "__all_sync";
    }
}

unsigned long long warpCollective(unsigned mask, Collective kind, unsigned long long value, int operand, int width,
    const char* file, int line)
{
    Launch& launch = *currentLaunch;
    Thread& self = *launch.current;
    const int lane = self.lane;
    // Only built when something fails: this is the emulator's hottest path.
    const auto at = [&] { return std::string(collectiveName(kind)) + " at " + where(file, line) + " in kernel " + launch.kernel->name; };
    if ((mask & (1u << lane)) == 0)
    {
        fail(at() + ": lane " + std::to_string(lane) + " calls it with a mask that does not name itself (" +
            describeThread(launch, self) + ")");
    }
    if (width <= 0 || width > 32 || (width & (width - 1)) != 0)
    {
        fail(at() + ": width " + std::to_string(width) + " is not a power of two up to 32");
    }
    const unsigned long long n = ++self.arrivals;
    const int p = (int)(n & 1);
    self.value[p] = value;
    self.mask[p] = mask;
    self.kind[p] = kind;
    self.cfile[p] = file;
    self.cline[p] = line;
    self.file = file;
    self.line = line;
    launch.progress++;
    const int present = lanesInWarp(launch, self.warp);
    Thread* warpBase = &launch.threads[(size_t)self.warp * 32];
    for (;;)
    {
        bool ready = true;
        for (int j = 0; j < 32; j++)
        {
            if ((mask & (1u << j)) == 0 || j == lane) continue;
            if (j >= present)
            {
                fail(at() + ": mask 0x" + [&] { char b[16]; std::snprintf(b, sizeof b, "%08x", mask); return std::string(b); }() +
                    " names lane " + std::to_string(j) + ", which this block of " + std::to_string(launch.blockThreads) +
                    " threads does not have (" + describeThread(launch, self) + ")");
            }
            Thread& other = warpBase[j];
            if (other.arrivals < n)
            {
                if (other.state == State::Done)
                {
                    fail(at() + ": mask names lane " + std::to_string(j) + ", which has exited (" + describeThread(launch, self) + ")");
                }
                ready = false;
                continue;
            }
            if (other.mask[p] != mask || other.kind[p] != kind || other.cline[p] != line || other.cfile[p] != file)
            {
                fail(at() + ": lane " + std::to_string(j) + " is at " + collectiveName(other.kind[p]) + " at " +
                    where(other.cfile[p], other.cline[p]) + " with mask " + std::to_string(other.mask[p]) +
                    " instead (divergent warp collective; " + describeThread(launch, self) + ")");
            }
        }
        if (ready) break;
        self.state = State::AtWarp;
        yieldToScheduler();
    }
    self.state = State::Runnable;
    auto valueOf = [&](int j) -> unsigned long long {
        if ((mask & (1u << j)) == 0)
        {
            fail(at() + ": lane " + std::to_string(lane) + " reads lane " + std::to_string(j) + ", which the mask does not name (" +
                describeThread(launch, self) + ")");
        }
        return j == lane ? value : warpBase[j].value[p];
    };
    const int segment = lane & ~(width - 1);
    switch (kind)
    {
        case Collective::ShflDown:
        {
            const int src = lane + operand;
            return src < segment + width ? valueOf(src) : value;
        }
        case Collective::ShflUp:
        {
            const int src = lane - operand;
            return src >= segment ? valueOf(src) : value;
        }
        case Collective::ShflXor:
        {
            const int src = lane ^ operand;
            return (src & ~(width - 1)) == segment && src < 32 ? valueOf(src) : value;
        }
        case Collective::Shfl:
            return valueOf(segment + (operand & (width - 1)));
        default:
        {
            unsigned ballot = 0;
            for (int j = 0; j < 32; j++)
            {
                if ((mask & (1u << j)) != 0 && (j == lane ? value : warpBase[j].value[p]) != 0) ballot |= 1u << j;
            }
            if (kind == Collective::Ballot) return ballot;
            if (kind == Collective::Any) return ballot != 0;
            return ballot == mask;
        }
    }
}

// ----------------------------------------------------------------------------------------------- the scheduler

// A small deterministic generator for the shuffled schedule (SplitMix64).
struct Rng
{
    unsigned long long state;
    unsigned long long next()
    {
        unsigned long long z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    template <class T>
    void shuffle(std::vector<T>& v)
    {
        for (size_t i = v.size(); i > 1; i--) std::swap(v[i - 1], v[next() % i]);
    }
};

static bool runnable(const Thread& t) { return t.state != State::Done && t.state != State::AtBarrier; }

// When every live thread waits at a barrier: releases them, or fails if the barrier is partial or divergent.
// Returns false when not every live thread is at a barrier.
static bool tryReleaseBarrier(Launch& launch, bool& failed)
{
    int waiting = 0, done = 0;
    const Thread* first = nullptr;
    for (auto& t : launch.threads)
    {
        if (t.state == State::Done) done++;
        else if (t.state == State::AtBarrier)
        {
            waiting++;
            if (first == nullptr) first = &t;
        }
        else return false;
    }
    if (waiting == 0) return false;
    const std::string kernel = launch.kernel->name;
    if (done > 0)
    {
        launch.error = "__syncthreads() at " + where(first->file, first->line) + " in kernel " + kernel + " reached by " +
            std::to_string(waiting) + " of " + std::to_string(launch.threads.size()) + " threads of block (" +
            std::to_string(launch.grid.blockIndex.x) + "," + std::to_string(launch.grid.blockIndex.y) + "," +
            std::to_string(launch.grid.blockIndex.z) + "); the other " + std::to_string(done) + " have exited";
        failed = true;
        return true;
    }
    for (auto& t : launch.threads)
    {
        if (t.line != first->line || t.file != first->file)
        {
            launch.error = "divergent __syncthreads() in kernel " + kernel + ": " + describeThread(launch, *first) + " waits at " +
                where(first->file, first->line) + ", " + describeThread(launch, t) + " at " + where(t.file, t.line);
            failed = true;
            return true;
        }
    }
    for (auto& t : launch.threads) t.state = State::Runnable;
    launch.progress++;
    return true;
}

static std::string deadlock(const Launch& launch)
{
    std::ostringstream s;
    s << "deadlock in kernel " << launch.kernel->name << ", block (" << launch.grid.blockIndex.x << "," << launch.grid.blockIndex.y
      << "," << launch.grid.blockIndex.z << "): no thread can proceed;";
    int shown = 0;
    for (auto& t : launch.threads)
    {
        if (t.state == State::Done || shown >= 4) continue;
        s << " " << describeThread(launch, t) << (t.state == State::AtBarrier ? " waits at __syncthreads() " : " waits at a warp collective ")
          << where(t.file, t.line) << ";";
        shown++;
    }
    return s.str();
}

// Runs one block; false (with launch.error) when it fails.
static bool runBlock(Launch& launch, const Schedule& schedule, Rng& rng)
{
    for (auto& t : launch.threads)
    {
        t.state = State::NotStarted;
        t.arrivals = 0;
        t.file = nullptr;
        t.line = 0;
    }
    const int warps = (launch.blockThreads + 31) / 32;
    std::vector<int> warpOrder(warps), laneOrder;
    for (int w = 0; w < warps; w++) warpOrder[w] = w;
    bool ok = true;
    for (;;)
    {
        const unsigned long long before = launch.progress;
        bool any = false;
        if (!schedule.shuffled)
        {
            for (auto& t : launch.threads)
            {
                if (!runnable(t)) continue;
                any = true;
                resume(launch, t);
                if (!launch.error.empty()) break;
            }
        }
        else
        {
            // Warps in a shuffled order, each run as far as it can get before the next, lanes shuffled within.
            rng.shuffle(warpOrder);
            for (int w : warpOrder)
            {
                const int lanes = lanesInWarp(launch, w);
                for (;;)
                {
                    const unsigned long long warpBefore = launch.progress;
                    laneOrder.resize(lanes);
                    for (int l = 0; l < lanes; l++) laneOrder[l] = l;
                    rng.shuffle(laneOrder);
                    for (int l : laneOrder)
                    {
                        Thread& t = launch.threads[(size_t)w * 32 + l];
                        if (!runnable(t)) continue;
                        any = true;
                        resume(launch, t);
                        if (!launch.error.empty()) break;
                    }
                    if (!launch.error.empty() || launch.progress == warpBefore) break;
                }
                if (!launch.error.empty()) break;
            }
        }
        if (!launch.error.empty())
        {
            ok = false;
            break;
        }
        bool failed = false;
        const bool released = tryReleaseBarrier(launch, failed);
        if (failed)
        {
            ok = false;
            break;
        }
        if (!any && !released) break; // every thread done
        if (!released && launch.progress == before)
        {
            launch.error = deadlock(launch);
            ok = false;
            break;
        }
    }
    for (auto& t : launch.threads)
    {
        if (t.hasStack)
        {
#ifdef XMC_EMU_ASAN
            // An abandoned fiber leaves its frames' poisoned red zones behind.
            __asan_unpoison_memory_region(t.stack.base, t.stack.size);
#endif
            giveStack(t.stack);
            t.hasStack = false;
        }
    }
    return ok;
}

std::string runGrid(const KernelInfo& kernel, dim3 grid, dim3 block, void** params, const Schedule& schedule,
    unsigned long long launchIndex)
{
    Launch launch;
    launch.kernel = &kernel;
    launch.params = params;
    launch.grid.gridDimension = grid;
    launch.grid.blockDimension = block;
    launch.blockThreads = (int)(block.x * block.y * block.z);
    launch.threads.resize((size_t)launch.blockThreads);
    for (int i = 0; i < launch.blockThreads; i++)
    {
        Thread& t = launch.threads[(size_t)i];
        t.linear = i;
        t.lane = i % 32;
        t.warp = i / 32;
        t.view.index = uint3{(unsigned)i % block.x, ((unsigned)i / block.x) % block.y, (unsigned)i / (block.x * block.y)};
    }
    Launch* savedLaunch = currentLaunch;
    Grid* savedGrid = currentGrid;
    ThreadView* savedView = currentView;
    currentLaunch = &launch;
    currentGrid = &launch.grid;

    Rng rng{schedule.seed * 0x9E3779B97F4A7C15ull + launchIndex};
    const unsigned long long blocks = (unsigned long long)grid.x * grid.y * grid.z;
    std::vector<unsigned long long> order;
    if (schedule.shuffled)
    {
        order.resize(blocks);
        for (unsigned long long b = 0; b < blocks; b++) order[b] = b;
        rng.shuffle(order);
    }
    for (unsigned long long i = 0; i < blocks; i++)
    {
        const unsigned long long b = schedule.shuffled ? order[i] : i;
        launch.grid.blockIndex = uint3{(unsigned)(b % grid.x), (unsigned)((b / grid.x) % grid.y), (unsigned)(b / ((unsigned long long)grid.x * grid.y))};
        if (!runBlock(launch, schedule, rng)) break;
    }
    currentLaunch = savedLaunch;
    currentGrid = savedGrid;
    currentView = savedView;
    return launch.error;
}
} // namespace xmc_emu
