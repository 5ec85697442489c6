using Xmc.Engine.Backends;
using Xmc.Engine.Cuda.Launch;

namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    /// <summary>The fused SGD update (fusedsgd.cu): a warp per slot for the values, a warp per label for the bias.
    /// Each kernel reads the loss sum itself and does nothing once it is not finite.</summary>
    public void FixedFanInSgdUpdate(nint xT, nint deltaT, int batch, nint values, DType valueType, nint indices, DType indexType,
        nint bias, long labelStart, long labels, int fanIn, in FixedFanInSgdArgs args)
    {
        var a = args;
        int stochastic = a.Rounding == RoundingMode.Stochastic ? 1 : 0;
        void Launch<TV, TI>() where TV : IValueElement where TI : IIndexElement =>
            Kernels.FusedSgd.Update<TV, TI>.Kernel.Launch(_kernels, Linear(labels * fanIn * 32), xT, deltaT, batch, values, indices, labelStart, labels, fanIn,
                a.LearningRate, a.Momentum, a.ValueMomentum, a.CompensationRows, a.Compensation, stochastic, a.Seed, a.RoundingOffset, a.LossSum);
        Action launch = (valueType, indexType) switch
        {
            (DType.Float32, DType.UInt16) => Launch<F32, U16>,
            (DType.Float32, DType.Int32) => Launch<F32, I32>,
            (DType.BFloat16, DType.UInt16) => Launch<BF16, U16>,
            (DType.BFloat16, DType.Int32) => Launch<BF16, I32>,
            (DType.Float8E4M3, DType.UInt16) => Launch<F8, U16>,
            (DType.Float8E4M3, DType.Int32) => Launch<F8, I32>,
            _ => throw new NotSupportedException($"{nameof(FixedFanInSgdUpdate)}: values must be Float32, BFloat16 or Float8E4M3 and indices UInt16 or Int32, got {valueType} values and {indexType} indices"),
        };
        if (labels <= 0)
        {
            return;
        }
        launch();
        if (bias != 0)
        {
            Kernels.FusedSgd.Bias.Launch(_kernels, Linear(labels * 32), deltaT, batch, bias, labelStart, labels, a.LearningRate, a.Momentum, a.BiasMomentum, a.LossSum);
        }
    }
}
