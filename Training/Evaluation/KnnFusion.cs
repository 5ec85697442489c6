using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Xmc.Engine;
using Xmc.Models.IO;
using Xmc.Training.Baselines;
using Xmc.Training.Checkpoints;
using Xmc.Training.Data;
using Xmc.Training.Metrics;

namespace Xmc.Training.Evaluation;

/// <summary>What a run folder's <c>knn-fusion/fusion.json</c> holds: the kNN weight, the shortlist, the model step the
/// weight was chosen for and the validation results of the weight grid.</summary>
public sealed record KnnFusionInfo(string Format, int Version, double Weight, int Shortlist, int Neighbours, long Step,
    string SelectionMetric, double[] Grid, List<Dictionary<string, double>>? Validation);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(KnnFusionInfo))]
internal sealed partial class KnnFusionJsonContext : JsonSerializerContext
{
}

/// <summary>Prediction-time fusion of the network with tf-idf kNN (<c>fusion.knn</c> &gt; 0): the network's top
/// <see cref="Shortlist"/> labels and kNN's are merged by <see cref="ScoreFusion"/> with the kNN weight
/// <see cref="Weight"/>, chosen on the validation split (never on test). The kNN index holds the training points
/// the network was fitted on (validation held out), weighted as the network's inputs are; it is saved in the run
/// folder's <c>knn-fusion/</c> (a kNN baseline folder plus <c>fusion.json</c>), which <c>xmc eval</c> and
/// <c>xmc predict</c> then apply.</summary>
public sealed class KnnFusion(KnnModel knn, double weight, int shortlist, long step)
{
    /// <summary>The folder inside a run folder.</summary>
    public const string FolderName = "knn-fusion";

    /// <summary>The fusion's own file inside <see cref="FolderName"/>.</summary>
    public const string InfoFile = "fusion.json";

    private const string FormatName = "xmcengine-knn-fusion";
    private const int FormatVersion = 1;

    /// <summary>The kNN weights validation chooses from (0 = the network alone, 1 = kNN alone).</summary>
    public static readonly double[] WeightGrid = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

    /// <summary>The kNN model over the fitted training points.</summary>
    public KnnModel Knn { get; } = knn;

    /// <summary>Weight of kNN's similarity share in the fused score.</summary>
    public double Weight { get; } = weight;

    /// <summary>Candidates taken from each ranker per point.</summary>
    public int Shortlist { get; } = shortlist;

    /// <summary>The training step of the network the weight was chosen for.</summary>
    public long Step { get; } = step;

    /// <summary>kNN's candidates for <paramref name="rows"/> (weighted as the network's inputs): its top
    /// <paramref name="shortlist"/> labels per point and their similarity shares.</summary>
    public static (int[][] Labels, float[][] Shares) Candidates(KnnModel knn, CsrMatrix rows, int shortlist)
    {
        ArgumentNullException.ThrowIfNull(knn);
        var (ids, sims, counts) = knn.Neighbours(rows, knn.K);
        var (labels, scores) = knn.RankLabels(ids, sims, counts, knn.K, Math.Min(shortlist, knn.Labels));
        var shares = new float[labels.Length][];
        for (int i = 0; i < labels.Length; i++)
        {
            double total = 0;
            for (int j = 0; j < counts[i]; j++)
            {
                total += Math.Max(0f, sims[(long)i * knn.K + j]);
            }
            shares[i] = ScoreFusion.Shares(scores[i], total);
        }
        return (labels, shares);
    }

    /// <summary>The fused top-<paramref name="k"/> of points whose network shortlist is <paramref name="network"/>
    /// (top-<see cref="Shortlist"/> labels and logits) and whose weighted feature rows are <paramref name="rows"/>.</summary>
    public (int[][] Labels, float[][] Scores) Predict((int[][] Labels, float[][] Scores) network, CsrMatrix rows, int k)
    {
        var (labels, shares) = Candidates(Knn, rows, Shortlist);
        return ScoreFusion.Fuse(network.Labels, network.Scores, labels, shares, Weight, k);
    }

    /// <summary>Chooses the kNN weight from <see cref="WeightGrid"/> on the validation split: the network's shortlist
    /// <paramref name="network"/> and kNN's candidates of the same points, scored against <paramref name="truth"/>.</summary>
    public static Selection ChooseWeight((int[][] Labels, float[][] Scores) network, (int[][] Labels, float[][] Shares) knn, CsrMatrix truth,
        double[] inversePropensities, SelectionMetric metric)
    {
        var reports = WeightGrid.Select(w => XmcMetrics.Evaluate(ScoreFusion.Fuse(network.Labels, network.Scores, knn.Labels, knn.Shares, w, 5).Labels,
            truth, 5, inversePropensities)).ToArray();
        return Selection.Choose("knn weight", WeightGrid, reports, metric);
    }

    /// <summary>Writes the fusion into <paramref name="runFolder"/>/<see cref="FolderName"/>: the kNN model (a kNN baseline
    /// folder) and <see cref="InfoFile"/> (written last: the fusion exists once it is there).</summary>
    public void Save(string runFolder, Selection selection, int trainPoints)
    {
        ArgumentNullException.ThrowIfNull(selection);
        string folder = Path.Combine(runFolder, FolderName);
        Directory.CreateDirectory(folder);
        BaselineFile.Save(folder, Knn, Selection.Fixed("k", Knn.K, selection.Metric), trainPoints, 0, 0);
        var info = new KnnFusionInfo(FormatName, FormatVersion, Weight, Shortlist, Knn.K, Step, selection.Metric.ToString(), selection.Values,
            selection.Reports?.Select(r => new Dictionary<string, double>(r.At(1, 3, 5))).ToList());
        AtomicFile.WriteAllText(Path.Combine(folder, InfoFile), JsonSerializer.Serialize(info, KnnFusionJsonContext.Default.KnnFusionInfo));
    }

    /// <summary>The fusion saved with the checkpoint in <paramref name="checkpointFolder"/> (looked for there and, for a
    /// <c>best/</c> folder, in the run folder above it); null when the run has none.</summary>
    /// <exception cref="CheckpointException">The fusion files are unreadable or inconsistent.</exception>
    public static KnnFusion? Find(string checkpointFolder)
    {
        foreach (var folder in new[] { checkpointFolder, Path.GetDirectoryName(Path.GetFullPath(checkpointFolder)) })
        {
            if (folder is null)
            {
                continue;
            }
            string infoPath = Path.Combine(folder, FolderName, InfoFile);
            if (File.Exists(infoPath))
            {
                return Load(infoPath);
            }
        }
        return null;
    }

    private static KnnFusion Load(string infoPath)
    {
        KnnFusionInfo? info;
        try
        {
            info = JsonSerializer.Deserialize(File.ReadAllText(infoPath), KnnFusionJsonContext.Default.KnnFusionInfo);
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"{infoPath}: corrupt kNN fusion file ({e.Message}); delete the {FolderName} folder to predict with the network alone");
        }
        if (info is null || info.Format != FormatName || info.Version != FormatVersion)
        {
            throw new CheckpointException($"{infoPath}: not an XmcEngine kNN fusion file of version {FormatVersion}");
        }
        if (!(info.Weight is >= 0 and <= 1) || info.Shortlist < 1)
        {
            throw new CheckpointException(string.Create(CultureInfo.InvariantCulture,
                $"{infoPath}: weight {info.Weight} must be in [0, 1] and shortlist {info.Shortlist} ≥ 1"));
        }
        var model = BaselineFile.Load(Path.GetDirectoryName(infoPath)!) as KnnModel
            ?? throw new CheckpointException($"{infoPath}: the {FolderName} folder holds a baseline that is not kNN");
        return new KnnFusion(model, info.Weight, info.Shortlist, info.Step);
    }
}
