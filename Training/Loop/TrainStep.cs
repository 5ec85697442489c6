using Xmc.Engine;
using Xmc.Models;
using Xmc.Models.Xmc;
using Xmc.Training.Data;
using Xmc.Training.Inputs;
using Xmc.Training.Optim;
using Xmc.Training.Sparse;

namespace Xmc.Training.Loop;

/// <summary>What one step reports: the main loss and the auxiliary loss before weighting (NaN when the auxiliary
/// objective is off or its weight has reached 0).</summary>
public readonly record struct StepLoss(double Loss, double AuxLoss);

/// <summary>One optimizer step on a batch: batch → forward → loss (+ λ_t·auxiliary loss) → backward → optimizer step.
/// Everything that is the same every step (the label chunking, the auxiliary targets of every point) is fixed when
/// it is made.</summary>
public sealed class TrainStep(IXmcModel model, XmcDataset train, XmcInputs inputs, Optimizer optimizer, AuxObjectiveSetup? aux,
    LabelChunking? chunking, ulong seed, Device device)
{
    /// <summary>Called between backward and the optimizer step with the 0-based step (DST hooks: Top-KAST's penalty).</summary>
    public Action<long>? BeforeOptimizerStep { get; init; }

    /// <summary>Base learning rate of a head trained by its own fused SGD (<c>optim.headSgdLr</c>); each step scales it
    /// by the optimizer's schedule.</summary>
    public float FusedHeadLearningRate { get; init; }

    /// <summary>Called before the forward with the 0-based step (Spartan's soft mask for the step).</summary>
    public Action<long>? BeforeForward { get; init; }

    /// <summary>Runs global step <paramref name="step"/> (0-based) on the training points <paramref name="rows"/>.</summary>
    /// <exception cref="NonFiniteLossException">The loss is not finite; nothing was updated (except, with a fused SGD
    /// head, the label chunks its loss had passed while still finite: the run stops anyway).
    /// <paramref name="describe"/> builds its message from the loss value.</exception>
    public StepLoss Run(ReadOnlySpan<int> rows, long step, Func<double, string> describe) => Run(rows, step, describe, false, out _);

    /// <summary><see cref="Run(ReadOnlySpan{int}, long, Func{double, string})"/>; with <paramref name="keepBatch"/>
    /// the head's input and the batch's labels come back in <paramref name="batch"/> (the caller disposes it) for a
    /// DST update that reads them.</summary>
    public StepLoss Run(ReadOnlySpan<int> rows, long step, Func<double, string> describe, bool keepBatch, out DstBatch? batch)
    {
        ArgumentNullException.ThrowIfNull(describe);
        batch = null;
        using var scope = TensorScope.Begin();
        model.TrainMode(seed, step);
        BeforeForward?.Invoke(step);
        if (model.Head is FixedFanInLinear { FusedSgd: not null } fused)
        {
            fused.PrepareUpdate(FusedHeadLearningRate * (optimizer.Schedule?.Factor(step) ?? 1f), step);
        }
        var y = XmcInputs.Labels(train, rows, device);
        try
        {
            var input = inputs.Batch(rows, device);
            var e = model.Embed(input);
            var x = model.HeadInput(input, e);
            var loss = model.Head.Loss(x, y, chunking);
            double mainValue = loss.Item(), value = mainValue, auxValue = double.NaN;
            float weight = aux?.Weight.At(step) ?? 0f;
            if (weight > 0 && model.Aux is { } objective)
            {
                using var targets = aux!.Targets(rows, device);
                if (objective.Loss(e, targets, weight) is { } auxLoss)
                {
                    double weighted = auxLoss.Item();
                    auxValue = weighted / weight;
                    value += weighted;
                    loss = Ops.Add(loss, auxLoss);
                }
            }
            if (!double.IsFinite(value))
            {
                throw new NonFiniteLossException(describe(value));
            }
            loss.Backward();
            BeforeOptimizerStep?.Invoke(step);
            optimizer.Step();
            model.Module.ZeroGrad();
            if (keepBatch)
            {
                batch = new DstBatch(scope.Escape(x.Detach()), y, chunking);
            }
            return new StepLoss(mainValue, auxValue);
        }
        finally
        {
            if (batch is null)
            {
                y.Dispose();
            }
        }
    }
}