using Xmc.Engine.Backends;

namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    /// <summary>Not on CUDA yet: the fused SGD update of the fixed fan-in layer runs on the CPU backend only
    /// (the training config rejects <c>model.headUpdate = fused-sgd</c> on a CUDA device before anything runs).</summary>
    public void FixedFanInSgdUpdate(nint xT, nint deltaT, int batch, nint values, DType valueType, nint indices, DType indexType,
        nint bias, long labelStart, long labels, int fanIn, in FixedFanInSgdArgs args)
        => throw new NotSupportedException("FixedFanInSgdUpdate: the fused SGD update of the fan-in head has no CUDA kernel yet; train with model.headUpdate = optimizer on CUDA, or fused-sgd on the CPU");
}
