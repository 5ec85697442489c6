using Xmc.Engine;
using Xmc.Engine.Memory;
using Xmc.Training.Config;
using Xmc.Models.Xmc;
using Xmc.Training.Data;

namespace Xmc.Training.Cli;

/// <summary>The bytes a training step should need, per ledger category, computed from the model's shapes before
/// anything runs — compared by <c>xmc profile</c> with the ledger's measured peaks. Activations and batch data are
/// planned for the bag-of-words model only.</summary>
public static class MemoryPlan
{
    /// <summary>Planned peak bytes per category for <paramref name="model"/> under <paramref name="config"/>.</summary>
    public static IReadOnlyDictionary<MemoryCategory, long> For(IXmcModel model, TrainConfig config, TrainingData data)
    {
        long parameters = 0, gradients = 0, trainableNumel = 0;
        foreach (var p in model.Module.Parameters())
        {
            parameters += p.Shape.Numel * p.DType.SizeOf();
            if (p.Trainable)
            {
                gradients += p.Shape.Numel * sizeof(float); // gradients are float32 whatever the storage
                trainableNumel += p.Shape.Numel;
            }
        }
        int slots = config.Optim.Optimizer == OptimizerKind.Sgd ? 1 : 2;
        long optimizer = trainableNumel * slots * sizeof(float);
        var plan = new Dictionary<MemoryCategory, long>
        {
            [MemoryCategory.Parameters] = parameters,
            [MemoryCategory.Gradients] = gradients,
            [MemoryCategory.OptimizerState] = optimizer,
        };
        if (model is not BowXmcModel)
        {
            return plan;
        }

        // One batch: the CSR input (row pointers, ids, values) and the positive-label lists.
        int b = config.Optim.BatchSize;
        double nnzPerRow = (double)data.Train.Features.Nnz / Math.Max(1, data.Train.NumPoints);
        double labelsPerRow = (double)data.Train.Labels.Nnz / Math.Max(1, data.Train.NumPoints);
        long batchData = (long)(b * (nnzPerRow * 8 + labelsPerRow * 4 + 8) + 8);

        // Activations kept for backward: input layer output, bias-add output, ReLU output (+ the same for the
        // intermediate layer), each [B, width] float32; the loss output is a scalar.
        int hidden = config.Model.Hidden, inter = config.Model.Intermediate;
        long activations = 3L * b * hidden * sizeof(float) + (inter > 0 ? 3L * b * inter * sizeof(float) : 0);
        plan[MemoryCategory.Activations] = activations;
        plan[MemoryCategory.Data] = batchData;
        return plan;
    }
}
