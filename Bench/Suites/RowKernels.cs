using Xmc.Engine.Backends;

namespace Xmc.Bench.Suites;

/// <summary>The row and element-wise kernels that the <c>ops</c> (CPU) and <c>gpu-ops</c> (CUDA) suites time, in
/// run order: each backward follows its forward, whose outputs (y, mean, rstd) it reads.</summary>
internal enum RowKernel
{
    SoftmaxForward,
    SoftmaxBackward,
    LayerNormForward,
    LayerNormBackward,
    GeluForward,
    GeluBackward,
    Add,
    ToBFloat16,
    FromBFloat16,
}

/// <summary>One definition of each <see cref="RowKernel"/> for both suites: its case name (shared with the peer
/// scripts), the bytes it must move, its operands and the backend call, so the CPU and GPU figures measure the
/// same work on the same kind of data.</summary>
internal static class RowKernels
{
    /// <summary>The case's op name, shared with the peer scripts.</summary>
    public static string Name(RowKernel k) => k switch
    {
        RowKernel.SoftmaxForward => "softmax_fwd",
        RowKernel.SoftmaxBackward => "softmax_bwd",
        RowKernel.LayerNormForward => "layernorm_fwd",
        RowKernel.LayerNormBackward => "layernorm_bwd",
        RowKernel.GeluForward => "gelu_fwd",
        RowKernel.GeluBackward => "gelu_bwd",
        RowKernel.Add => "add",
        RowKernel.ToBFloat16 => "f32_to_bf16",
        _ => "bf16_to_f32",
    };

    /// <summary>Bytes a call must move per element: reads plus writes of the [rows, cols] operands.</summary>
    public static int BytesPerElement(RowKernel k) => k switch
    {
        RowKernel.SoftmaxBackward or RowKernel.LayerNormBackward or RowKernel.GeluBackward or RowKernel.Add => 12,
        RowKernel.ToBFloat16 or RowKernel.FromBFloat16 => 6,
        _ => 8,
    };

    /// <summary>Runs <paramref name="kernel"/> on <paramref name="be"/> over the first [rows, cols] of
    /// <paramref name="o"/>.</summary>
    public static void Run(IBackend be, RowKernelOperands o, RowKernel kernel, int rows, int cols)
    {
        long n = (long)rows * cols;
        switch (kernel)
        {
            case RowKernel.SoftmaxForward: be.Softmax(o.X, 0, o.Y, rows, cols, 1, log: false); break;
            case RowKernel.SoftmaxBackward: be.SoftmaxBackward(o.Y, o.G, o.Dx, rows, cols, log: false); break;
            case RowKernel.LayerNormForward: be.LayerNorm(o.X, o.Gamma, o.Beta, o.Y, o.Mean, o.Rstd, rows, cols, 1e-5f); break;
            case RowKernel.LayerNormBackward:
                be.LayerNormBackward(o.X, o.Gamma, o.Mean, o.Rstd, o.G, o.Dx, o.DGamma, o.DBeta, rows, cols);
                break;
            case RowKernel.GeluForward: be.Unary(UnaryOp.GeluErf, o.X, o.Y, n); break;
            case RowKernel.GeluBackward: be.UnaryBackward(UnaryOp.GeluErf, o.X, o.G, o.Dx, n); break;
            case RowKernel.Add: be.Binary(BinaryOp.Add, o.X, o.G, o.Y, rows, cols, Broadcast.None); break;
            case RowKernel.ToBFloat16: be.ConvertToBFloat16(o.X, o.Half, n); break;
            default: be.ConvertToFloat32(o.Half, o.Y, n); break;
        }
    }
}

/// <summary>The operands of every <see cref="RowKernel"/> on one backend, sized for the largest shape and filled
/// once: float32 x, g, y, dx [elements]; gamma, beta, dGamma, dBeta [maxCols]; mean, rstd [maxRows]; and x in
/// bfloat16. The suite allocates, fills and frees (<c>floats(count, seed, lo, hi)</c>, a constant where lo = hi;
/// <c>bfloat16s(count)</c>); which operand gets which seed and range is decided here, once for both suites.</summary>
internal sealed class RowKernelOperands
{
    public RowKernelOperands(IBackend be, Func<long, int, float, float, nint> floats, Func<long, nint> bfloat16s,
        long elements, int maxCols, int maxRows)
    {
        X = floats(elements, 1, -4f, 4f);
        G = floats(elements, 2, -1f, 1f);
        Y = floats(elements, 3, 0f, 0.01f);
        Dx = floats(elements, 4, 0f, 0f);
        Gamma = floats(maxCols, 5, 0.5f, 2f);
        Beta = floats(maxCols, 6, -1f, 1f);
        DGamma = floats(maxCols, 7, 0f, 0f);
        DBeta = floats(maxCols, 8, 0f, 0f);
        Mean = floats(maxRows, 9, 0f, 0f);
        Rstd = floats(maxRows, 10, 1f, 1f);
        Half = bfloat16s(elements);
        be.ConvertToBFloat16(X, Half, elements);
    }

    public nint X { get; }

    public nint G { get; }

    public nint Y { get; }

    public nint Dx { get; }

    public nint Gamma { get; }

    public nint Beta { get; }

    public nint DGamma { get; }

    public nint DBeta { get; }

    public nint Mean { get; }

    public nint Rstd { get; }

    public nint Half { get; }
}
