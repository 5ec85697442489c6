namespace Xmc.Engine.Cuda.Launch;

using BinaryKernel = Kernel<Ptr<Const<F32>>, Ptr<Const<F32>>, Ptr<F32>, I64, I64>;
using UnaryKernel = Kernel<I32, Ptr<Const<F32>>, Ptr<F32>, I64>;
using ExpandKernel = Kernel<Ptr<Const<F32>>, Ptr<F32>, I64, I64, F32>;
using ReduceKernel = Kernel<Ptr<Const<F32>>, Ptr<F32>, I64, I64, F32>;
using CsrKernel = Kernel<Ptr<Const<I32>>, Ptr<Const<I32>>, Ptr<Const<F32>>, I32, Ptr<Const<F32>>, I32, Ptr<F32>>;
using EmbeddingKernel = Kernel<Ptr<Const<F32>>, Ptr<Const<I32>>, Ptr<F32>, I64, I32>;

/// <summary>Every kernel of <c>Engine.Cuda/Kernels/*.cu</c>, declared once: file, name, parameter types (the type
/// arguments) and names, in the order of the <c>extern "C" __global__</c> signature. One nested class per file; a
/// kernel family that a C++ template instantiates for several element types is one generic class here, over
/// <see cref="IValueElement"/> and <see cref="IIndexElement"/>. <c>KernelSignatureTests</c> preprocesses the files
/// and checks that every kernel has exactly one declaration here and that types and names match.</summary>
public static class Kernels
{
    /// <summary>affine.cu</summary>
    public static class Affine
    {
        public static Kernel<Ptr<Const<F32>>, Ptr<F32>, I64, F32, F32> Apply { get; } =
            new("affine.cu", "affine_f32", "x", "y", "n", "scale", "shift");
    }

    /// <summary>axpy.cu</summary>
    public static class Axpy
    {
        public static Kernel<Ptr<F32>, Ptr<Const<F32>>, I64, F32> Apply { get; } = new("axpy.cu", "axpy_f32", "y", "x", "n", "alpha");
    }

    /// <summary>binary.cu: <c>binary_{op}_{broadcast}</c>, from one macro.</summary>
    public static class Binary
    {
        public static BinaryKernel AddNone { get; } = Declare("add_none");
        public static BinaryKernel AddRow { get; } = Declare("add_row");
        public static BinaryKernel AddColumn { get; } = Declare("add_column");
        public static BinaryKernel SubNone { get; } = Declare("sub_none");
        public static BinaryKernel SubRow { get; } = Declare("sub_row");
        public static BinaryKernel SubColumn { get; } = Declare("sub_column");
        public static BinaryKernel MulNone { get; } = Declare("mul_none");
        public static BinaryKernel MulRow { get; } = Declare("mul_row");
        public static BinaryKernel MulColumn { get; } = Declare("mul_column");
        public static BinaryKernel DivNone { get; } = Declare("div_none");
        public static BinaryKernel DivRow { get; } = Declare("div_row");
        public static BinaryKernel DivColumn { get; } = Declare("div_column");

        private static BinaryKernel Declare(string opAndBroadcast) =>
            new("binary.cu", "binary_" + opAndBroadcast, "a", "b", "y", "rows", "cols");
    }

    /// <summary>convert.cu</summary>
    public static class Convert
    {
        public static Kernel<Ptr<Const<F32>>, Ptr<BF16>, I64> ToBFloat16 { get; } = new("convert.cu", "f32_to_bf16", "x", "y", "n");
        public static Kernel<Ptr<Const<BF16>>, Ptr<F32>, I64> ToFloat32 { get; } = new("convert.cu", "bf16_to_f32", "x", "y", "n");
        public static Kernel<Ptr<Const<F32>>, Ptr<BF16>, I64, I32, U64, U64> ToBFloat16Rounded { get; } =
            new("convert.cu", "f32_to_bf16_rounded", "x", "y", "n", "stochastic", "seed", "offset");
        public static Kernel<Ptr<Const<F32>>, Ptr<U8>, I64, I32, U64, U64> ToFloat8 { get; } =
            new("convert.cu", "f32_to_f8", "x", "y", "n", "stochastic", "seed", "offset");
        public static Kernel<Ptr<Const<U8>>, Ptr<F32>, I64> Float8ToFloat32 { get; } = new("convert.cu", "f8_to_f32", "x", "y", "n");
    }

    /// <summary>dst.cu</summary>
    public static class Dst
    {
        /// <summary><c>set_prune_regrow_{value}_{index}</c>.</summary>
        public static class SetPruneRegrow<TV, TI> where TV : IValueElement where TI : IIndexElement
        {
            public static Kernel<Ptr<TV>, Ptr<TI>, I64, I64, I32, I32, I32, F32, U64, U64, Ptr<Const<Ptr<F32>>>, I32, Ptr<U8>> Kernel { get; } =
                new("dst.cu", $"set_prune_regrow_{TV.Suffix}_{TI.Suffix}", "values", "indices", "rowStart", "rows", "k", "d",
                    "prune", "regrowValue", "seed", "offset", "states", "stateCount", "workspace");
        }
    }

    /// <summary>dstselect.cu</summary>
    public static class DstSelect
    {
        /// <summary><c>gse_draw_{index}</c>.</summary>
        public static class GseDraw<TI> where TI : IIndexElement
        {
            public static Kernel<Ptr<Const<TI>>, I64, I64, I32, I32, I32, Ptr<Const<F64>>, U64, U64, U64, Ptr<I32>> Kernel { get; } =
                new("dstselect.cu", $"gse_draw_{TI.Suffix}", "indices", "rowStart", "rows", "k", "d", "c", "cdf", "seed", "offset", "rowBlocks", "result");
        }

        /// <summary><c>gse_grow_{value}_{index}</c>.</summary>
        public static class GseGrow<TV, TI> where TV : IValueElement where TI : IIndexElement
        {
            public static Kernel<Ptr<TV>, Ptr<TI>, I64, I64, I32, I32, Ptr<Const<I32>>, Ptr<Const<F32>>, I32, F32, Ptr<Const<Ptr<F32>>>, I32, Ptr<U8>> Kernel { get; } =
                new("dstselect.cu", $"gse_grow_{TV.Suffix}_{TI.Suffix}", "values", "indices", "rowStart", "rows", "k", "n", "candidates", "grads",
                    "c", "growValue", "states", "stateCount", "workspace");
        }

        /// <summary><c>select_forward_set_{value}</c>.</summary>
        public static class ForwardSet<TV> where TV : IValueElement
        {
            public static Kernel<Ptr<Const<TV>>, Ptr<F32>, I64, I32, I32, Ptr<U64>> Kernel { get; } =
                new("dstselect.cu", $"select_forward_set_{TV.Suffix}", "values", "marks", "labels", "k", "kf", "flipped");
        }

        public static Kernel<Ptr<F32>, Ptr<Const<F32>>, Ptr<Const<F32>>, I64, F32> ReservoirPenalty { get; } =
            new("dstselect.cu", "reservoir_penalty_f32", "gradient", "values", "marks", "n", "lambda");
    }

    /// <summary>embedding.cu</summary>
    public static class Embedding
    {
        public static Kernel<Ptr<Const<I32>>, I64, I32, Ptr<U64>> FirstOutOfRange { get; } =
            new("embedding.cu", "first_out_of_range_i32", "ids", "n", "bound", "first");
        public static EmbeddingKernel Gather { get; } = new("embedding.cu", "embedding_gather_f32", "weight", "ids", "y", "n", "dim");
        public static EmbeddingKernel ScatterAdd { get; } = new("embedding.cu", "embedding_scatter_add_f32", "gy", "ids", "gWeight", "n", "dim");
    }

    /// <summary>expand.cu</summary>
    public static class Expand
    {
        public static ExpandKernel Row { get; } = new("expand.cu", "expand_row_f32", "v", "y", "rows", "cols", "scale");
        public static ExpandKernel Column { get; } = new("expand.cu", "expand_column_f32", "v", "y", "rows", "cols", "scale");
    }

    /// <summary>fixedfanin.cu</summary>
    public static class FixedFanIn
    {
        public static Kernel<Ptr<Const<F32>>, Ptr<F32>, I64, I64> Transpose2D { get; } =
            new("fixedfanin.cu", "transpose_2d_f32", "src", "dst", "rows", "cols");

        /// <summary><c>fixed_fan_in_forward_{value}_{index}</c>.</summary>
        public static class Forward<TV, TI> where TV : IValueElement where TI : IIndexElement
        {
            public static Kernel<Ptr<Const<F32>>, I32, Ptr<Const<TV>>, Ptr<Const<TI>>, Ptr<Const<F32>>, I64, I32, Ptr<F32>> Kernel { get; } =
                new("fixedfanin.cu", $"fixed_fan_in_forward_{TV.Suffix}_{TI.Suffix}", "xT", "batch", "values", "indices", "bias", "labels", "fanIn", "zT");
        }

        /// <summary><c>fixed_fan_in_backward_values_{index}</c>.</summary>
        public static class BackwardValues<TI> where TI : IIndexElement
        {
            public static Kernel<Ptr<Const<F32>>, Ptr<Const<F32>>, I32, Ptr<Const<TI>>, I64, I32, Ptr<F32>, F32> Kernel { get; } =
                new("fixedfanin.cu", $"fixed_fan_in_backward_values_{TI.Suffix}", "xT", "deltaT", "batch", "indices", "labels", "fanIn", "gradValues", "beta");
        }

        /// <summary><c>fixed_fan_in_backward_input_{value}_{index}</c>.</summary>
        public static class BackwardInput<TV, TI> where TV : IValueElement where TI : IIndexElement
        {
            public static Kernel<Ptr<Const<F32>>, I32, Ptr<Const<TV>>, Ptr<Const<TI>>, I64, I32, Ptr<F32>> Kernel { get; } =
                new("fixedfanin.cu", $"fixed_fan_in_backward_input_{TV.Suffix}_{TI.Suffix}", "deltaT", "batch", "values", "indices", "labels", "fanIn", "gradXT");
        }
    }

    /// <summary>fusedsgd.cu</summary>
    public static class FusedSgd
    {
        /// <summary><c>fixed_fan_in_sgd_{value}_{index}</c>.</summary>
        public static class Update<TV, TI> where TV : IValueElement where TI : IIndexElement
        {
            public static Kernel<Ptr<Const<F32>>, Ptr<Const<F32>>, I32, Ptr<TV>, Ptr<Const<TI>>, I64, I64, I32, F32, F32, Ptr<BF16>, Ptr<Const<I32>>, Ptr<BF16>, I32, U64, U64, Ptr<Const<F32>>> Kernel { get; } =
                new("fusedsgd.cu", $"fixed_fan_in_sgd_{TV.Suffix}_{TI.Suffix}", "xT", "deltaT", "batch", "values", "indices", "labelStart", "labels", "fanIn",
                    "lr", "momentum", "velocity", "compRows", "comp", "stochastic", "seed", "offset", "lossSum");
        }

        public static Kernel<Ptr<Const<F32>>, I32, Ptr<F32>, I64, I64, F32, F32, Ptr<F32>, Ptr<Const<F32>>> Bias { get; } =
            new("fusedsgd.cu", "fixed_fan_in_sgd_bias", "deltaT", "batch", "bias", "labelStart", "labels", "lr", "momentum", "velocity", "lossSum");
    }

    /// <summary>layout.cu</summary>
    public static class Layout
    {
        public static Kernel<Ptr<U32>, I64, Ptr<Const<U32>>, I64, I64, I64> CopyStridedWords { get; } =
            new("layout.cu", "copy_strided_words", "dst", "dstPitch", "src", "srcPitch", "rows", "rowWords");
        public static Kernel<Ptr<U8>, I64, Ptr<Const<U8>>, I64, I64, I64> CopyStridedBytes { get; } =
            new("layout.cu", "copy_strided_bytes", "dst", "dstPitch", "src", "srcPitch", "rows", "rowBytes");
        public static Kernel<Ptr<Const<F32>>, Ptr<F32>, I64, I64, I64, I64> SwapMiddleAxes { get; } =
            new("layout.cu", "swap_middle_axes_f32", "x", "y", "outer", "a", "b", "inner");
    }

    /// <summary>loss.cu</summary>
    public static class Loss
    {
        public static Kernel<Ptr<Const<F32>>, Ptr<Const<F32>>, Ptr<F32>, I64, I64> BceWithLogitsRows { get; } =
            new("loss.cu", "bce_with_logits_rows_f32", "z", "targets", "rowLoss", "rows", "cols");
        public static Kernel<Ptr<Const<F32>>, Ptr<Const<F32>>, Ptr<Const<F32>>, Ptr<F32>, I64, F32> BceWithLogitsBackward { get; } =
            new("loss.cu", "bce_with_logits_backward_f32", "z", "targets", "gradLoss", "dz", "n", "scale");
        public static Kernel<Ptr<Const<F32>>, Ptr<Const<I32>>, Ptr<F32>, I64, I64> SoftmaxCrossEntropy { get; } =
            new("loss.cu", "softmax_cross_entropy_f32", "logits", "targets", "rowLoss", "rows", "cols");
        public static Kernel<Ptr<Const<F32>>, Ptr<Const<I32>>, Ptr<Const<F32>>, Ptr<F32>, I64, I64, F32> SoftmaxCrossEntropyBackward { get; } =
            new("loss.cu", "softmax_cross_entropy_backward_f32", "logits", "targets", "gradLoss", "dz", "rows", "cols", "scale");
    }

    /// <summary>norm.cu</summary>
    public static class Norm
    {
        public static Kernel<Ptr<Const<F32>>, Ptr<Const<F32>>, Ptr<Const<F32>>, Ptr<F32>, Ptr<F32>, Ptr<F32>, I64, I64, F32> LayerNorm { get; } =
            new("norm.cu", "layer_norm_f32", "x", "gamma", "beta", "y", "mean", "rstd", "rows", "cols", "eps");
        public static Kernel<Ptr<Const<F32>>, Ptr<Const<F32>>, Ptr<Const<F32>>, Ptr<Const<F32>>, Ptr<Const<F32>>, Ptr<F32>, I64, I64> BackwardInput { get; } =
            new("norm.cu", "layer_norm_backward_input_f32", "x", "gamma", "mean", "rstd", "dy", "dx", "rows", "cols");
        public static Kernel<Ptr<Const<F32>>, Ptr<Const<F32>>, Ptr<Const<F32>>, Ptr<Const<F32>>, Ptr<F32>, Ptr<F32>, I64, I64> BackwardParams { get; } =
            new("norm.cu", "layer_norm_backward_params_f32", "x", "mean", "rstd", "dy", "dgamma", "dbeta", "rows", "cols");
    }

    /// <summary>optim.cu: <c>param</c> is float32 or bfloat16 words, as <c>isBf16</c> says.</summary>
    public static class Optim
    {
        public static Kernel<Ptr<Untyped>, I32, Ptr<Const<F32>>, Ptr<F32>, I64, F32, F32, F32, I32, U64, U64> Sgd { get; } =
            new("optim.cu", "sgd_update", "param", "isBf16", "grad", "velocity", "n", "lr", "momentum", "weightDecay", "nesterov",
                "roundingSeed", "roundingOffset");
        public static Kernel<Ptr<Untyped>, I32, Ptr<Const<F32>>, Ptr<F32>, Ptr<F32>, I64, F32, F32, F32, F32, F32, F32, F32, F32, F32, F32, U64, U64> Adam { get; } =
            new("optim.cu", "adam_update", "param", "isBf16", "grad", "m", "v", "n", "lr", "beta1", "oneMinusBeta1", "beta2", "oneMinusBeta2",
                "eps", "l2", "shrink", "c1", "c2", "roundingSeed", "roundingOffset");
    }

    /// <summary>random.cu</summary>
    public static class Random
    {
        public static Kernel<Ptr<F32>, I64, U64, U64, F32, F32> FillUniform { get; } =
            new("random.cu", "fill_uniform_f32", "dst", "n", "seed", "offset", "lo", "hi");
        public static Kernel<Ptr<F32>, I64, U64, U64, F32, F32> FillNormal { get; } =
            new("random.cu", "fill_normal_f32", "dst", "n", "seed", "offset", "mean", "std");
        public static Kernel<Ptr<Const<F32>>, Ptr<F32>, I64, F32, F32, U64, U64> Dropout { get; } =
            new("random.cu", "dropout_f32", "x", "y", "n", "p", "scale", "seed", "offset");
    }

    /// <summary>reduce.cu</summary>
    public static class Reduce
    {
        public static ReduceKernel Cols { get; } = new("reduce.cu", "reduce_cols_f32", "x", "y", "rows", "cols", "scale");
        public static ReduceKernel Rows { get; } = new("reduce.cu", "reduce_rows_f32", "x", "y", "rows", "cols", "scale");
    }

    /// <summary>softmax.cu</summary>
    public static class Softmax
    {
        public static Kernel<Ptr<Const<F32>>, Ptr<Const<F32>>, Ptr<F32>, I64, I64, I64, I32> Forward { get; } =
            new("softmax.cu", "softmax_f32", "x", "mask", "y", "rows", "cols", "rowsPerMaskRow", "logSoftmax");
        public static Kernel<Ptr<Const<F32>>, Ptr<Const<F32>>, Ptr<F32>, I64, I64, I32> Backward { get; } =
            new("softmax.cu", "softmax_backward_f32", "y", "g", "dx", "rows", "cols", "logSoftmax");
    }

    /// <summary>sparse.cu</summary>
    public static class Sparse
    {
        public static CsrKernel CsrMatMul { get; } =
            new("sparse.cu", "csr_matmul_f32", "rowPtr", "colIdx", "values", "rows", "w", "dim", "y");
        public static CsrKernel CsrMatMulTransposeAccumulate { get; } =
            new("sparse.cu", "csr_matmul_transpose_accumulate_f32", "rowPtr", "colIdx", "values", "rows", "gy", "dim", "gW");
    }

    /// <summary>topk.cu</summary>
    public static class TopK
    {
        public static Kernel<Ptr<Const<F32>>, Ptr<F32>, Ptr<I32>, I64, I64, I32> Rows { get; } =
            new("topk.cu", "topk_rows_f32", "x", "values", "indices", "rows", "cols", "k");
    }

    /// <summary>unary.cu: <c>op</c> is the activation's number in <c>UnaryKind</c>.</summary>
    public static class Unary
    {
        public static UnaryKernel Forward { get; } = new("unary.cu", "unary_f32", "op", "x", "y", "n");
        public static Kernel<I32, Ptr<Const<F32>>, Ptr<Const<F32>>, Ptr<F32>, I64> Backward { get; } =
            new("unary.cu", "unary_backward_f32", "op", "x", "gy", "gx", "n");
        public static Kernel<I32, Ptr<Const<F32>>, Ptr<Const<F32>>, Ptr<F32>, I64, I64> BiasActivation { get; } =
            new("unary.cu", "bias_activation_f32", "op", "x", "bias", "y", "rows", "cols");
        public static Kernel<I32, Ptr<Const<F32>>, Ptr<Const<F32>>, Ptr<Const<F32>>, Ptr<F32>, I64, I64> BiasActivationBackward { get; } =
            new("unary.cu", "bias_activation_backward_f32", "op", "x", "bias", "gy", "gx", "rows", "cols");
    }

    /// <summary>xmcloss.cu</summary>
    public static class XmcLoss
    {
        public static Kernel<Ptr<Const<F32>>, I64, I32, I64, Ptr<Const<I32>>, Ptr<Const<I32>>, Ptr<F64>> PositiveLoss { get; } =
            new("xmcloss.cu", "bce_label_major_positive_loss", "zT", "labels", "batch", "labelStart", "offsets", "positives", "accumulator");
        public static Kernel<Ptr<F32>, I64, F32, Ptr<F64>> Dense { get; } =
            new("xmcloss.cu", "bce_label_major_dense", "zT", "n", "gradScale", "accumulator");
        public static Kernel<Ptr<F32>, I64, I32, I64, Ptr<Const<I32>>, Ptr<Const<I32>>, F32> PositiveGrad { get; } =
            new("xmcloss.cu", "bce_label_major_positive_grad", "zT", "labels", "batch", "labelStart", "offsets", "positives", "gradScale");
        public static Kernel<Ptr<Const<F64>>, Ptr<F32>> Finish { get; } = new("xmcloss.cu", "bce_label_major_finish", "accumulator", "lossSum");
        public static Kernel<Ptr<Const<F32>>, I64, I32, I64, I32, Ptr<F32>, Ptr<I32>> TopKUpdate { get; } =
            new("xmcloss.cu", "topk_update_label_major", "zT", "labels", "batch", "labelStart", "k", "topScores", "topLabels");
    }
}
