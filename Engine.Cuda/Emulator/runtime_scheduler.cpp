// The block scheduler: runs a grid one block at a time, resuming the fibers of a block (in order, or in a seeded
// shuffle) until all finish; releases barriers, and fails partial or divergent ones and deadlocks.
#include "runtime_launch.h"

#include <algorithm>
#include <sstream>
#include <string>

namespace xmc_emu
{
thread_local ThreadView* currentView __attribute__((tls_model("initial-exec"))) = nullptr;
thread_local Grid* currentGrid __attribute__((tls_model("initial-exec"))) = nullptr;

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
        t.released = 0;
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
