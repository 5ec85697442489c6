using Xmc.Engine;
using Xmc.Models.Xmc;
using Xmc.Training.Data;
using Xmc.Training.Inputs;
using Xmc.Training.Optim;

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
    /// <summary>Runs global step <paramref name="step"/> (0-based) on the training points <paramref name="rows"/>.</summary>
    /// <exception cref="NonFiniteLossException">The loss is not finite; nothing was updated.
    /// <paramref name="describe"/> builds its message from the loss value.</exception>
    public StepLoss Run(ReadOnlySpan<int> rows, long step, Func<double, string> describe)
    {
        ArgumentNullException.ThrowIfNull(describe);
        using var scope = TensorScope.Begin();
        model.TrainMode(seed, step);
        using var y = XmcInputs.Labels(train, rows, device);
        var e = model.Embed(inputs.Batch(rows, device));
        var loss = model.Head.Loss(model.Project(e), y, chunking);
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
        optimizer.Step();
        model.Module.ZeroGrad();
        return new StepLoss(mainValue, auxValue);
    }
}
