using Xmc.Engine;
using Xmc.Engine.Memory;
using Xmc.Models.Xmc;
using Xmc.Training.Checkpoints;
using Xmc.Training.Config;
using Xmc.Training.Data;
using Xmc.Training.Optim;

namespace Xmc.Training.Loop;

/// <summary>Writes a run's checkpoints: model, optimizer, progress and config, plus the tensors the model needs
/// besides its parameters (the bag-of-words idf, the auxiliary label clusters); keeps the newest
/// <c>run.keepCheckpoints</c> (<see cref="Checkpoint.Save"/> writes atomically and rotates).</summary>
public sealed class CheckpointWriter(string runFolder, TrainConfig config, IXmcModel model, Optimizer optimizer, XmcDataset train,
    IReadOnlyDictionary<string, float[]> extras, LabelClusters? auxClusters, IReadOnlyList<string>? runFiles = null)
{
    /// <summary>The newest complete checkpoint of the run folder, if any.</summary>
    public string? Last => Checkpoint.List(runFolder).LastOrDefault();

    /// <summary>Saves a checkpoint of the state after <paramref name="progress"/> into the run folder, rotating.</summary>
    public void Save(TrainingProgress progress) => Save(progress, runFolder, config.Run.KeepCheckpoints);

    /// <summary>Saves a checkpoint of the state after <paramref name="progress"/> into <paramref name="folder"/>, keeping
    /// the newest <paramref name="keep"/> there.</summary>
    /// <exception cref="RunFolderException">The write failed (a full disk); nothing of it is left, the earlier
    /// checkpoints are untouched.</exception>
    public void Save(TrainingProgress progress, string folder, int keep)
    {
        var tensors = extras.ToDictionary(e => e.Key, e => Tensor.FromArray(e.Value, new Shape(e.Value.Length), Device.Cpu, MemoryCategory.Data));
        if (auxClusters is not null)
        {
            tensors[AuxObjectiveSetup.ClustersExtra] = Tensor.FromArray(auxClusters.ClusterOf, new Shape(auxClusters.NumLabels), Device.Cpu, MemoryCategory.Data);
        }
        try
        {
            var before = Checkpoint.List(folder).LastOrDefault();
            RunFolder.Writing($"writing the checkpoint of step {progress.Step} into {folder} (" +
                (before is null ? "no earlier checkpoint" : $"the earlier checkpoint {before} is intact; continue from it with --resume {runFolder} once there is room") + ")",
                () => Checkpoint.Save(folder, model.Module, optimizer, progress, ConfigLoader.ToJson(config), tensors,
                    (train.NumFeatures, train.NumLabels, train.NumPoints, config.Run.Seed), keep, runFiles));
        }
        finally
        {
            foreach (var t in tensors.Values)
            {
                t.Dispose();
            }
        }
    }
}
