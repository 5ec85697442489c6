// __syncthreads and the warp collectives (__shfl_*_sync, __ballot_sync, __any_sync, __all_sync): a fiber records
// where it arrived and yields; the last lane of a warp to arrive computes every lane's result.
#include "runtime_launch.h"

#include <algorithm>
#include <string>

namespace xmc_emu
{
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

int lanesInWarp(const Launch& launch, int warp)
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
    const unsigned presentLanes = present == 32 ? 0xffffffffu : (1u << present) - 1;
    if ((mask & ~presentLanes) != 0)
    {
        const int j = __builtin_ctz(mask & ~presentLanes);
        fail(at() + ": mask 0x" + [&] { char b[16]; std::snprintf(b, sizeof b, "%08x", mask); return std::string(b); }() +
            " names lane " + std::to_string(j) + ", which this block of " + std::to_string(launch.blockThreads) +
            " threads does not have (" + describeThread(launch, self) + ")");
    }
    Thread* warpBase = &launch.threads[(size_t)self.warp * 32];
    // The lanes of the mask are scanned from the highest down, stopping at the first that has not arrived: in thread
    // order that is the next lane up, so a lane that is not the last pays one look, and the last one checks every lane
    // (same collective, same mask) and releases them all, so that a waiting lane, resumed, does not scan again.
    while (self.released != n)
    {
        bool ready = true;
        for (unsigned others = mask & ~(1u << lane); others != 0;)
        {
            const int j = 31 - __builtin_clz(others);
            others &= ~(1u << j);
            Thread& other = warpBase[j];
            if (other.arrivals < n)
            {
                if (other.state == State::Done)
                {
                    fail(at() + ": mask names lane " + std::to_string(j) + ", which has exited (" + describeThread(launch, self) + ")");
                }
                ready = false;
                break;
            }
            if (other.mask[p] != mask || other.kind[p] != kind || other.cline[p] != line || other.cfile[p] != file)
            {
                fail(at() + ": lane " + std::to_string(j) + " is at " + collectiveName(other.kind[p]) + " at " +
                    where(other.cfile[p], other.cline[p]) + " with mask " + std::to_string(other.mask[p]) +
                    " instead (divergent warp collective; " + describeThread(launch, self) + ")");
            }
        }
        if (ready)
        {
            for (unsigned lanes = mask; lanes != 0; lanes &= lanes - 1) warpBase[__builtin_ctz(lanes)].released = n;
            break;
        }
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
} // namespace xmc_emu
