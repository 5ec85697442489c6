using System.Globalization;
using Xmc.Engine;
using Xmc.Models.Xmc;
using Xmc.Training.Checkpoints;
using Xmc.Training.Config;
using Xmc.Training.Data;
using Xmc.Training.Inputs;

namespace Xmc.Training.Loop;

/// <summary>The auxiliary label-cluster objective of a run: its label clusters (read from the checkpoint when
/// resuming, so a resumed run uses the very assignment it started with; else clustered from the training data's
/// sparse point vectors), the bias prior, and every training point's cluster targets, computed once on the host.</summary>
public sealed class AuxObjectiveSetup
{
    /// <summary>Name of the checkpoint's extra tensor holding the label → cluster assignment.</summary>
    public const string ClustersExtra = "aux_clusters";

    private readonly int[][] _targets;

    private AuxObjectiveSetup(LabelClusters clusters, int[][] targets, AuxWeightSchedule weight)
    {
        Clusters = clusters;
        _targets = targets;
        Weight = weight;
    }

    /// <summary>The label → cluster assignment.</summary>
    public LabelClusters Clusters { get; }

    /// <summary>λ_t.</summary>
    public AuxWeightSchedule Weight { get; }

    /// <summary>Clusters the labels (or restores the clusters of <paramref name="resumeFrom"/>), attaches them to
    /// <paramref name="objective"/> and initialises its bias.</summary>
    public static AuxObjectiveSetup Attach(LabelClusterObjective objective, TrainConfig config, TrainingData data, XmcInputs inputs,
        string? resumeFrom, long totalSteps, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(objective);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(data);
        var clusters = resumeFrom is null ? Cluster(config, data, inputs, output) : Restore(resumeFrom, config, data);
        objective.Attach(clusters);
        objective.InitialiseBias(data.Train.Labels);
        var labels = data.Train.Labels;
        var targets = new int[labels.Rows][];
        for (int i = 0; i < targets.Length; i++)
        {
            targets[i] = clusters.Targets(labels.Row(i));
        }
        return new AuxObjectiveSetup(clusters, targets, new AuxWeightSchedule(config.Model.AuxWeight, config.Model.AuxUntil, totalSteps));
    }

    /// <summary>The cluster targets of the training points <paramref name="rows"/> (scope-tracked).</summary>
    public PositiveLabels Targets(ReadOnlySpan<int> rows, Device device)
    {
        var lists = new int[rows.Length][];
        for (int i = 0; i < rows.Length; i++)
        {
            lists[i] = _targets[rows[i]];
        }
        return PositiveLabels.FromLists(lists, Clusters.Count, device);
    }

    private static LabelClusters Restore(string resumeFrom, TrainConfig config, TrainingData data)
    {
        int clusters = config.Model.AuxClusters;
        var stored = Checkpoint.ReadExtraInt32(resumeFrom, ClustersExtra);
        if (stored.Length != data.Train.NumLabels || stored.Any(c => (uint)c >= (uint)clusters))
        {
            throw new CheckpointException($"{resumeFrom}: its label-cluster assignment (extra.{ClustersExtra}) covers {stored.Length} labels in " +
                $"{(stored.Length == 0 ? 0 : stored.Max() + 1)} clusters; this run has {data.Train.NumLabels} labels and model.auxClusters={clusters}");
        }
        return new LabelClusters(stored, clusters);
    }

    /// <summary>Balanced clusters of the labels by their training points' sparse vectors (tf-idf rows, or the bert
    /// encoder's inputs as bags of WordPiece tokens).</summary>
    private static LabelClusters Cluster(TrainConfig config, TrainingData data, XmcInputs inputs, TextWriter output)
    {
        int clusters = config.Model.AuxClusters;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (points, values) = inputs switch
        {
            TfIdfInputs tfidf => (tfidf.Features, tfidf.Values),
            TokenInputs tokens => tokens.BagOfTokens() is var bag ? (bag, bag.Values!) : default,
            _ => throw new ArgumentException($"no sparse point vectors for {inputs.GetType().Name}", nameof(inputs)),
        };
        Action<string>? progress = data.Train.NumLabels >= 100_000 ? output.WriteLine : null;
        var result = LabelClusters.Build(points, values, data.Train.Labels, clusters, (ulong)config.Run.Seed + 11, progress);
        var sizes = result.Sizes();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"aux objective: {data.Train.NumLabels} labels in {clusters} balanced clusters of {sizes.Min()}–{sizes.Max()} labels ({clock.Elapsed.TotalSeconds:F1} s); λ {config.Model.AuxWeight} → 0 by {config.Model.AuxUntil:P0} of training"));
        return result;
    }
}
