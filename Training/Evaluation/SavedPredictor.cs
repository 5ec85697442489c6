using Xmc.Engine;
using Xmc.Training.Baselines;
using Xmc.Training.Data;

namespace Xmc.Training.Evaluation;

/// <summary>What <c>xmc eval</c> and <c>xmc predict</c> load: a trained model's checkpoint (run folder, .json or
/// .safetensors) or a baseline run folder (<c>baseline.json</c>); both rank the labels of a data set.</summary>
public sealed class SavedPredictor : IDisposable
{
    private readonly TrainedModel? _trained;
    private readonly IBaselineModel? _baseline;

    private SavedPredictor(TrainedModel? trained, IBaselineModel? baseline)
    {
        _trained = trained;
        _baseline = baseline;
    }

    /// <summary>Loads what <paramref name="path"/> names, on the CPU.</summary>
    public static SavedPredictor Open(string path)
        => BaselineFile.IsBaseline(path) ? new(null, BaselineFile.Load(path)) : new(TrainedModel.Load(path), null);

    /// <summary>Number of labels ranked.</summary>
    public int Labels => _baseline?.Labels ?? _trained!.Model.Head.Labels;

    /// <summary>Top-<paramref name="k"/> labels and scores per point of <paramref name="data"/> (read from <paramref name="source"/>).</summary>
    /// <exception cref="XmcDataException">The data does not fit the model.</exception>
    public (int[][] Labels, float[][] Scores) Predict(XmcDataset data, string source, int k)
        => _baseline is not null
            ? BaselineRun.Predict(_baseline, data, source, k)
            : Evaluator.Predict(_trained!.Model, _trained.InputsFor(data, source), k, Device.Cpu, _trained.Config.Model.Chunking());

    /// <inheritdoc/>
    public void Dispose() => _trained?.Dispose();
}
