// Streams and events: streams run in order at the call, so synchronizing is a check; events take host timestamps.
#include "driver.h"

#include <chrono>
#include <string>

using namespace xmc_driver;

namespace xmc_driver
{
std::set<Stream*> streams;
std::set<Event*> events;

CUresult checkStream(void* stream, const char* call)
{
    if (stream == nullptr) return CUDA_SUCCESS;
    if (streams.count(static_cast<Stream*>(stream)) == 0)
        return failWith(CUDA_ERROR_INVALID_HANDLE, std::string(call) + ": not a live stream");
    return CUDA_SUCCESS;
}

namespace
{
double nowMilliseconds()
{
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
} // namespace
} // namespace xmc_driver

XMC_API CUresult cuStreamCreate(Stream** stream, unsigned int flags)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuStreamCreate");
    if (stream == nullptr || flags > 1) return failWith(CUDA_ERROR_INVALID_VALUE, "cuStreamCreate: bad arguments");
    auto* s = new Stream();
    s->context = current;
    streams.insert(s);
    *stream = s;
    return CUDA_SUCCESS;
}

XMC_API CUresult cuStreamDestroy_v2(Stream* stream)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuStreamDestroy");
    if (streams.erase(stream) == 0) return failWith(CUDA_ERROR_INVALID_HANDLE, "cuStreamDestroy: not a live stream");
    delete stream;
    return CUDA_SUCCESS;
}

XMC_API CUresult cuStreamSynchronize(Stream* stream)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuStreamSynchronize");
    return checkStream(stream, "cuStreamSynchronize");
}

XMC_API CUresult cuEventCreate(Event** event, unsigned int flags)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuEventCreate");
    if (event == nullptr || flags > 7) return failWith(CUDA_ERROR_INVALID_VALUE, "cuEventCreate: bad arguments");
    auto* e = new Event();
    events.insert(e);
    *event = e;
    return CUDA_SUCCESS;
}

XMC_API CUresult cuEventRecord(Event* event, Stream* stream)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuEventRecord");
    if (events.count(event) == 0) return failWith(CUDA_ERROR_INVALID_HANDLE, "cuEventRecord: not a live event");
    if (CUresult r = checkStream(stream, "cuEventRecord")) return r;
    event->recorded = true;
    event->milliseconds = nowMilliseconds();
    return CUDA_SUCCESS;
}

XMC_API CUresult cuEventSynchronize(Event* event)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuEventSynchronize");
    if (events.count(event) == 0) return failWith(CUDA_ERROR_INVALID_HANDLE, "cuEventSynchronize: not a live event");
    return CUDA_SUCCESS;
}

XMC_API CUresult cuEventElapsedTime(float* milliseconds, Event* start, Event* end)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuEventElapsedTime");
    if (milliseconds == nullptr) return failWith(CUDA_ERROR_INVALID_VALUE, "cuEventElapsedTime: null pointer");
    if (events.count(start) == 0 || events.count(end) == 0) return failWith(CUDA_ERROR_INVALID_HANDLE, "cuEventElapsedTime: not a live event");
    if (!start->recorded || !end->recorded) return failWith(CUDA_ERROR_INVALID_HANDLE, "cuEventElapsedTime: an event was never recorded");
    *milliseconds = (float)(end->milliseconds - start->milliseconds);
    return CUDA_SUCCESS;
}

XMC_API CUresult cuEventDestroy_v2(Event* event)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuEventDestroy");
    if (events.erase(event) == 0) return failWith(CUDA_ERROR_INVALID_HANDLE, "cuEventDestroy: not a live event");
    delete event;
    return CUDA_SUCCESS;
}
