using Xmc.Engine;
using Xmc.Engine.Memory;
using Xmc.Models.Xmc;
using Xmc.Training.Config;
using Xmc.Training.Data;

namespace Xmc.Training.Profile;

/// <summary>Records a training run's memory for its folder: the ledger over its first two steps (peaks, and the live
/// bytes of the second) beside the plan of <see cref="StepMemoryPlanner"/>, written as <c>memory.json</c> once the
/// second step (or the run's only one) is done.</summary>
internal sealed class RunMemoryRecorder : IDisposable
{
    private readonly TrainConfig _config;
    private readonly XmcDataset _train;
    private readonly IXmcModel _model;
    private readonly string _folder;
    private readonly long _lastStep;
    private readonly long _firstStep;
    private LedgerTrace? _trace;
    private int _lastStart;

    public RunMemoryRecorder(TrainConfig config, XmcDataset train, IXmcModel model, MemoryLedger ledger, string folder, long startStep, long totalSteps)
    {
        (_config, _train, _model, _folder) = (config, train, model, folder);
        _firstStep = startStep;
        _lastStep = Math.Min(totalSteps, startStep + 2);
        _trace = _lastStep > startStep ? LedgerTrace.Start(ledger) : null;
    }

    /// <summary>Called after every step; returns the file written at the last recorded step, else null.</summary>
    public string? AfterStep(long step)
    {
        if (_trace is null)
        {
            return null;
        }
        if (step == _lastStep - 1 && step > _firstStep)
        {
            _lastStart = _trace.Samples.Count;
        }
        if (step < _lastStep)
        {
            return null;
        }
        _trace.Dispose();
        var measured = MeasuredSteps.FromTrace(_config.Optim.BatchSize, (int)(step - _firstStep), _trace.Samples, _lastStart);
        _trace = null;
        var encoder = (_model as BertXmcModel)?.Bert.Config;
        var planner = new StepMemoryPlanner(_config, DataShape.Of(_train, "the loaded training split"), _config.Run.Device, encoder);
        var record = MemoryRecord.Of(_config.Run.Device.ToString(), planner.For(_config.Optim.BatchSize), measured);
        var path = Path.Combine(_folder, MemoryRecord.FileName);
        record.Write(path);
        return path;
    }

    public void Dispose() => _trace?.Dispose();
}
