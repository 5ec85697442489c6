using Xmc.Engine.Cuda.Launch;

namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    public void SgdUpdate(nint param, DType paramType, nint grad, nint velocity, long n, float lr, float momentum,
        float weightDecay, bool nesterov, ulong roundingSeed, ulong roundingOffset)
    {
        var bf16 = ParamIsBFloat16(nameof(SgdUpdate), paramType);
        Kernels.Optim.Sgd.Launch(_kernels, Linear(n), param, bf16, grad, velocity, n, lr, momentum, weightDecay, nesterov ? 1 : 0, roundingSeed, roundingOffset);
    }

    public void AdamUpdate(nint param, DType paramType, nint grad, nint m, nint v, long n, float lr, float beta1, float beta2,
        float eps, float weightDecay, bool decoupledWeightDecay, long step, ulong roundingSeed, ulong roundingOffset)
    {
        var bf16 = ParamIsBFloat16(nameof(AdamUpdate), paramType);
        // The same float32 expressions as the CPU, so the kernel gets bit-identical factors.
        float c1 = 1f / (1f - MathF.Pow(beta1, step)), c2 = 1f / (1f - MathF.Pow(beta2, step));
        float shrink = decoupledWeightDecay ? 1f - lr * weightDecay : 1f;
        float l2 = decoupledWeightDecay ? 0f : weightDecay;
        Kernels.Optim.Adam.Launch(_kernels, Linear(n), param, bf16, grad, m, v, n, lr,
            beta1, 1f - beta1, beta2, 1f - beta2, eps, l2, shrink, c1, c2, roundingSeed, roundingOffset);
    }

    private static int ParamIsBFloat16(string kernel, DType t) => t switch
    {
        DType.Float32 => 0,
        DType.BFloat16 => 1,
        _ => throw new NotSupportedException($"{kernel}: parameters must be Float32 or BFloat16, got {t}"),
    };
}
