using Xmc.Engine;
using Xmc.Training.Baselines;
using Xmc.Training.Data;
using Xmc.Training.Inputs;

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

    /// <summary>Loads what <paramref name="path"/> names, on the CPU; a trained run's kNN fusion is applied unless
    /// <paramref name="withFusion"/> is false.</summary>
    public static SavedPredictor Open(string path, bool withFusion = true)
        => BaselineFile.IsBaseline(path) ? new(null, BaselineFile.Load(path)) : new(TrainedModel.Load(path, withFusion), null);

    /// <summary>A line for the log about how predictions are made (kNN fusion), or null.</summary>
    public string? Note => _trained?.Note;

    /// <summary>Number of labels ranked.</summary>
    public int Labels => _baseline?.Labels ?? _trained!.Model.Head.Labels;

    /// <summary>Top-<paramref name="k"/> labels and scores per point of <paramref name="data"/> (read from <paramref name="source"/>).</summary>
    /// <exception cref="XmcDataException">The data does not fit the model.</exception>
    public (int[][] Labels, float[][] Scores) Predict(XmcDataset data, string source, int k)
    {
        if (_baseline is not null)
        {
            return BaselineRun.Predict(_baseline, data, source, k);
        }
        var inputs = _trained!.InputsFor(data, source);
        var chunking = _trained.Config.Model.Chunking();
        if (_trained.Fusion is { } fusion && inputs is TfIdfInputs rows)
        {
            var network = Evaluator.Predict(_trained.Model, inputs, Math.Max(k, fusion.Shortlist), Device.Cpu, chunking);
            return fusion.Predict(network, rows.Weighted(), k);
        }
        return Evaluator.Predict(_trained.Model, inputs, k, Device.Cpu, chunking);
    }

    /// <inheritdoc/>
    public void Dispose() => _trained?.Dispose();
}
