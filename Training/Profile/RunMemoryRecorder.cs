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

    private readonly Action<string> _warn;

    private RunMemoryRecorder(TrainConfig config, XmcDataset train, IXmcModel model, MemoryLedger ledger, string folder, long startStep, long totalSteps, Action<string> warn)
    {
        (_config, _train, _model, _folder, _warn) = (config, train, model, folder, warn);
        _firstStep = startStep;
        _lastStep = Math.Min(totalSteps, startStep + 2);
        _trace = _lastStep > startStep ? LedgerTrace.Start(ledger) : null;
    }

    /// <summary>Starts recording from <paramref name="startStep"/>; null (with a warning) when the ledger is already traced.</summary>
    public static RunMemoryRecorder? TryStart(TrainConfig config, XmcDataset train, IXmcModel model, MemoryLedger ledger, string folder, long startStep, long totalSteps, Action<string> warn)
    {
        ArgumentNullException.ThrowIfNull(warn);
        try
        {
            return new RunMemoryRecorder(config, train, model, ledger, folder, startStep, totalSteps, warn);
        }
        catch (InvalidOperationException e)
        {
            warn($"warning: memory.json not recorded ({e.Message})");
            return null;
        }
    }

    /// <summary>Draws the run folder's plots; a failure is one warning line (<see cref="Plots.RunPlots.TryDraw"/>).</summary>
    public static void DrawPlots(string folder, Action<string> message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var plots = new StringWriter();
        Plots.RunPlots.TryDraw(folder, plots);
        message(plots.ToString().TrimEnd());
    }

    /// <summary>Called after every step; at the last recorded one writes memory.json. memory.json is a report:
    /// failing to write it is a warning, never an error of the run.</summary>
    public void AfterStep(long step)
    {
        try
        {
            Record(step);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException or Loop.RunFolderException)
        {
            _trace?.Dispose();
            _trace = null;
            _warn($"warning: memory.json not written ({e.GetType().Name}: {e.Message})");
        }
    }

    private string? Record(long step)
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
