using System.Globalization;
using System.Text;
using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Engine.Memory;
using Xmc.Models;
using Xmc.Models.Xmc;
using Xmc.Training.Config;

namespace Xmc.Training.Loop;

/// <summary>
/// The floor of the memory plan: the bytes a run's config fixes before its first step — parameters, their gradients,
/// the optimizer's state, the weighted copies of the input rows and the idf — computed from the shapes alone and
/// checked against the memory the run may use before any of it is allocated. Over the limit, the run stops with
/// <see cref="DeviceOutOfMemoryException"/> (exit code 4) and a table of the plan, instead of a bare runtime abort or
/// the kernel's OOM killer halfway through building the model. Activations are not in it (the per-step planner's).
/// The bag-of-words sizes are exact (a test compares them with a built model); the BERT encoder's are a lower bound.
/// </summary>
public static class MemoryFloor
{
    /// <summary>One line of the plan; <paramref name="OnDevice"/> false for host-side arrays (the data);
    /// <paramref name="Part"/> the model part it belongs to (<see cref="EncoderPart"/>, <see cref="ClassifierPart"/>,
    /// <see cref="DataPart"/>).</summary>
    public readonly record struct Item(string Name, MemoryCategory Category, double Bytes, bool OnDevice, string Part = DataPart);

    /// <summary>Everything below the output head (input layer or BERT, intermediate layer, auxiliary cluster head).</summary>
    public const string EncoderPart = "encoder";

    /// <summary>The output head (the sparse classifier).</summary>
    public const string ClassifierPart = "classifier";

    /// <summary>Inputs, labels and their weighting.</summary>
    public const string DataPart = "data";

    /// <summary>The planned items of <paramref name="config"/>'s model for <paramref name="shape"/>, with
    /// <paramref name="inputNnz"/> stored input values over all splits (bag of words; 0 for BERT). Without
    /// <paramref name="training"/> (evaluation, prediction) only the parameters and their initialisation.</summary>
    public static IReadOnlyList<Item> Plan(TrainConfig config, XmcModelShape shape, long inputNnz, bool training = true)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(shape);
        var m = config.Model;
        double encoder = 0, head = 0, frozenBytes = 0, headValueBytes = 0, fusedStateBytes = 0;
        bool fused = m.Head == HeadKind.FanIn && m.HeadUpdate == HeadUpdateKind.FusedSgd;
        double width;
        var items = new List<Item>();
        if (m.Encoder == EncoderKind.Bow)
        {
            encoder += (double)shape.Inputs * m.Hidden + m.Hidden;
            width = m.Hidden;
            // the initial weights are drawn into a host array before they are copied in
            items.Add(new Item("initial input weights (transient)", MemoryCategory.Workspace, 4.0 * shape.Inputs * m.Hidden, OnDevice: false, Part: EncoderPart));
        }
        else
        {
            var b = XmcModelBuilder.EncoderConfig(m, shape);
            double h = b.HiddenSize;
            encoder += (double)(b.VocabSize + b.MaxPositionEmbeddings + b.TypeVocabSize) * h + 2 * h
                + (double)b.NumHiddenLayers * (4 * h * h + 4 * h + 2 * h * b.IntermediateSize + b.IntermediateSize + h + 4 * h);
            width = h;
        }
        double encoderWidth = width;
        if (m.Intermediate > 0)
        {
            encoder += (double)m.Intermediate * width + m.Intermediate;
            width = m.Intermediate;
        }
        double labels = shape.Shard?.Count ?? shape.Labels; // a rank of a label-sharded run holds its block
        double headValues = 0; // values of the head kept in their own storage type (their gradient and state are fp32)
        switch (m.Head)
        {
            case HeadKind.FanIn:
                headValueBytes = labels * m.FanIn * m.HeadDType.SizeOf();
                if (fused)
                {
                    // values and bias trained inside the loss: no gradient, no optimizer state; the update's own state
                    frozenBytes += 4 * labels;
                    fusedStateBytes = (m.HeadMomentum > 0 ? labels * m.FanIn * 2 + 4 * labels : 0)
                        + (Math.Round(m.HeadKahan * labels) > 0 ? Math.Round(m.HeadKahan * labels) * m.FanIn * 2 + 4 * labels : 0);
                }
                else
                {
                    headValues = labels * m.FanIn;
                    head += labels; // bias
                }
                frozenBytes += labels * m.FanIn * FixedFanInLinear.IndexTypeFor((int)width).SizeOf();
                break;
            case HeadKind.Dense:
                head += labels * width + labels;
                break;
            default: // masked: weight, mask, bias
                head += labels * width + labels;
                frozenBytes += 4 * labels * width;
                break;
        }
        if (m.AuxClusters > 0)
        {
            encoder += (double)m.AuxClusters * encoderWidth + m.AuxClusters;
        }
        int slots = config.Optim.Optimizer == OptimizerKind.Sgd ? 1 : 2;
        items.Add(new Item("encoder parameters", MemoryCategory.Parameters, 4 * encoder, OnDevice: true, Part: EncoderPart));
        items.Add(new Item("classifier parameters", MemoryCategory.Parameters, 4 * head + headValueBytes + frozenBytes, OnDevice: true, Part: ClassifierPart));
        if (fusedStateBytes > 0)
        {
            // saved with the model, so built for evaluation too
            items.Add(new Item("fused head update state", MemoryCategory.OptimizerState, fusedStateBytes, OnDevice: true, Part: ClassifierPart));
        }
        if (!training)
        {
            return items;
        }
        items.Add(new Item("encoder gradients", MemoryCategory.Gradients, 4 * encoder, OnDevice: true, Part: EncoderPart));
        items.Add(new Item("classifier gradients", MemoryCategory.Gradients, 4 * (head + headValues), OnDevice: true, Part: ClassifierPart));
        items.Add(new Item("encoder optimizer state", MemoryCategory.OptimizerState, 4.0 * slots * encoder, OnDevice: true, Part: EncoderPart));
        items.Add(new Item("classifier optimizer state", MemoryCategory.OptimizerState, 4.0 * slots * (head + headValues), OnDevice: true, Part: ClassifierPart));
        if (m.Encoder == EncoderKind.Bow)
        {
            // weighted values of every split, the idf, and the document frequencies it is counted from
            items.Add(new Item("weighted input values", MemoryCategory.Data, 4.0 * inputNnz, OnDevice: false));
            items.Add(new Item("idf + document frequencies", MemoryCategory.Data, IdfBytesPerFeature * shape.Inputs, OnDevice: false));
        }
        return items;
    }

    /// <summary>Host bytes per feature of fitting a weighting: the idf (float) and the document frequencies (int).</summary>
    public const double IdfBytesPerFeature = 8;

    /// <summary>Checks that <paramref name="bytes"/> more of host memory fit what the process may still use.</summary>
    /// <exception cref="DeviceOutOfMemoryException">They do not; the message names <paramref name="what"/>.</exception>
    public static void CheckHost(string what, double bytes)
    {
        var host = HostMemoryLimit.Current();
        double free = host.Bytes - (double)Environment.WorkingSet;
        if (bytes > free)
        {
            throw new DeviceOutOfMemoryException(
                $"out of memory on the host: {what} needs {Format(bytes)}, the process may use {host}, of which {Format(Math.Max(0, free))} are still free. Use a data set with fewer features, or run where more memory is available.");
        }
    }

    /// <summary>Checks the plan of <paramref name="config"/> against what <paramref name="device"/>'s allocator and
    /// (for the host-side items, and on the CPU for all) the process may still use.</summary>
    /// <exception cref="DeviceOutOfMemoryException">The plan does not fit; the message has the plan's table.</exception>
    public static void Check(TrainConfig config, XmcModelShape shape, long inputNnz, Device device, bool training = true)
    {
        var items = Plan(config, shape, inputNnz, training);
        var allocator = BackendRegistry.For(device).Allocator;
        var host = HostMemoryLimit.Current();
        double hostFree = host.Bytes - (double)Environment.WorkingSet;
        double deviceFree = allocator.LimitBytes is long lim ? lim - (double)allocator.Ledger.TotalCurrent : double.PositiveInfinity;
        double onDevice = items.Where(i => i.OnDevice).Sum(i => i.Bytes), onHost = items.Where(i => !i.OnDevice).Sum(i => i.Bytes);
        string? why = null;
        if (device.Kind == DeviceKind.Cpu)
        {
            double all = onDevice + onHost;
            if (all > deviceFree)
            {
                why = $"the plan needs {Format(all)}, the memory limit {Format(allocator.LimitBytes!.Value)} leaves {Format(deviceFree)} (--device-memory-limit / run.deviceMemoryLimit, or the host limit {host})";
            }
            else if (all > hostFree)
            {
                why = $"the plan needs {Format(all)}, the process may use {host}, of which {Format(Math.Max(0, hostFree))} are still free";
            }
        }
        else if (onDevice > deviceFree)
        {
            why = $"the plan needs {Format(onDevice)} on {device}, the memory limit {Format(allocator.LimitBytes!.Value)} leaves {Format(deviceFree)}";
        }
        else if (onHost > hostFree)
        {
            why = $"the plan needs {Format(onHost)} of host memory, the process may use {host}, of which {Format(Math.Max(0, hostFree))} are still free";
        }
        if (why is not null)
        {
            throw new DeviceOutOfMemoryException(Describe(device, why, items));
        }
    }

    private static string Describe(Device device, string why, IReadOnlyList<Item> items)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"out of memory on {device} before training: {why}. ");
        sb.AppendLine("Reduce the model (model.hidden, model.intermediate, model.fanIn, model.head, the BERT size) or the data's feature count, or run where more memory is available.");
        sb.AppendLine(CultureInfo.InvariantCulture, $"{"planned before the first step",-36} {"category",-16} {"bytes",12} {"where",6}");
        foreach (var i in items)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"{i.Name,-36} {i.Category,-16} {Format(i.Bytes),12} {(i.OnDevice ? device.ToString() : "host"),6}");
        }
        sb.Append(CultureInfo.InvariantCulture, $"{"total",-36} {"",-16} {Format(items.Sum(i => i.Bytes)),12}");
        return sb.ToString();
    }

    private static string Format(double bytes) => MemoryLedger.FormatBytes(bytes >= long.MaxValue ? long.MaxValue : (long)bytes);
}
