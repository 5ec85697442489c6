using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Engine.Memory;
using Xmc.Models;
using Xmc.Models.Bert;
using Xmc.Models.Xmc;
using Xmc.Training.Config;
using Xmc.Training.Loop;

namespace Xmc.Training.Profile;

/// <summary>When a planned buffer is live during a training step.</summary>
public enum StepPhase
{
    /// <summary>The whole run: parameters, optimizer state.</summary>
    Resident,

    /// <summary>The whole step: the batch and the activations kept for the backward.</summary>
    Step,

    /// <summary>Inside the encoder's forward: a layer's temporaries before it frees them.</summary>
    Forward,

    /// <summary>The classifier's fused loss: its chunk buffers and the gradients it computes in the same pass.</summary>
    Loss,

    /// <summary>The backward: the parameters' gradients so far and the largest transient gradient (for BERT: in the
    /// first layer's feed-forward half, the later layers' activations freed).</summary>
    Backward,

    /// <summary>The end of the backward: every parameter's gradient (for BERT: the embeddings' last, over its
    /// embedding activations).</summary>
    BackwardEnd,
}

/// <summary>One planned buffer (or group of buffers) of a training step.</summary>
public sealed record PlanLine(string Name, string Part, MemoryCategory Category, StepPhase Phase, long Bytes);

/// <summary>The bytes a training step holds, per ledger category, for one batch size: lines that live the whole run
/// or step plus the three phases that come and go (forward temporaries, the fused loss, the backward); the peak is
/// what is held throughout plus the largest phase.</summary>
public sealed class StepMemoryPlan
{
    private static readonly StepPhase[] Transient = [StepPhase.Forward, StepPhase.Loss, StepPhase.Backward, StepPhase.BackwardEnd];

    internal StepMemoryPlan(int batchSize, IReadOnlyList<PlanLine> lines, IReadOnlyList<string> notes)
    {
        BatchSize = batchSize;
        Lines = lines;
        Notes = notes;
    }

    /// <summary>Points per batch.</summary>
    public int BatchSize { get; }

    /// <summary>The planned buffers.</summary>
    public IReadOnlyList<PlanLine> Lines { get; }

    /// <summary>What the plan leaves out or estimates.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Bytes held in <paramref name="phase"/> (all categories, or one).</summary>
    public long Bytes(StepPhase phase, MemoryCategory? category = null)
        => Lines.Where(l => l.Phase == phase && (category is null || l.Category == category)).Sum(l => l.Bytes);

    /// <summary>The phase whose transient buffers make the peak.</summary>
    public StepPhase PeakPhase => Transient.MaxBy(p => Bytes(p));

    /// <summary>The planned peak of all categories together.</summary>
    public long Peak => Bytes(StepPhase.Resident) + Bytes(StepPhase.Step) + Transient.Max(p => Bytes(p));

    /// <summary>The planned peak of one category (its own largest phase; the ledger keeps per-category peaks so).</summary>
    public long PeakOf(MemoryCategory category)
        => Bytes(StepPhase.Resident, category) + Bytes(StepPhase.Step, category) + Transient.Max(p => Bytes(p, category));
}

/// <summary>Plans the memory of a training step from the config and the data's shape alone — nothing is built or
/// read. Parameters, gradients and optimizer state come from <see cref="MemoryFloor.Plan"/> (the same lines the
/// run checks before it allocates, split into encoder and classifier); the rest is counted from the shapes of what
/// each part of a step allocates (see docs/memory.md, "What a step holds"). The classifier's chunk buffers are
/// sized by the device's own backend, so the plan is the device's.</summary>
public sealed class StepMemoryPlanner
{
    private readonly TrainConfig _config;
    private readonly DataShape _data;
    private readonly IBackend _backend;
    private readonly IReadOnlyList<MemoryFloor.Item> _floor;
    private readonly BertConfig? _bert;

    /// <summary>Plans <paramref name="config"/>'s model on <paramref name="data"/> for <paramref name="device"/>;
    /// <paramref name="encoder"/> is the bert encoder's config when it is known (a loaded checkpoint, a built
    /// vocabulary); else the config's sizes with <paramref name="vocabulary"/> tokens (default
    /// <c>model.vocabSize</c>, the most a built vocabulary holds).</summary>
    public StepMemoryPlanner(TrainConfig config, DataShape data, Device device, BertConfig? encoder = null, int? vocabulary = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(data);
        _config = config;
        _data = data;
        _backend = BackendRegistry.For(device);
        var m = config.Model;
        var shape = new XmcModelShape(m.Encoder == EncoderKind.Bert ? vocabulary ?? m.VocabSize : data.Features, data.Labels, encoder);
        if (m.Encoder == EncoderKind.Bert)
        {
            _bert = XmcModelBuilder.EncoderConfig(m, shape);
            shape = shape with { Encoder = _bert };
        }
        _floor = MemoryFloor.Plan(config, shape, inputNnz: 0);
        Width = m.Intermediate > 0 ? m.Intermediate : _bert?.HiddenSize ?? m.Hidden;
    }

    /// <summary>The classifier's input width.</summary>
    public int Width { get; }

    /// <summary>The plan of one step with <paramref name="batch"/> points.</summary>
    public StepMemoryPlan For(int batch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        var lines = new List<PlanLine>();
        var notes = new List<string>();
        foreach (var item in _floor.Where(i => i.OnDevice))
        {
            // parameters and optimizer state live the whole run; gradients come in the backward (the classifier's
            // already in its fused loss) and go at the end of the step
            if (item.Category != MemoryCategory.Gradients)
            {
                lines.Add(new PlanLine(item.Name, item.Part, item.Category, StepPhase.Resident, (long)item.Bytes));
                continue;
            }
            lines.Add(new PlanLine(item.Name, item.Part, item.Category, StepPhase.BackwardEnd, (long)item.Bytes));
            if (_bert is null || item.Part == MemoryFloor.ClassifierPart)
            {
                lines.Add(new PlanLine(item.Name, item.Part, item.Category, StepPhase.Backward, (long)item.Bytes));
            }
        }
        long labels = (long)Math.Round(batch * _data.LabelsPerPoint);
        lines.Add(new PlanLine("positive labels of the batch", MemoryFloor.DataPart, MemoryCategory.Data, StepPhase.Step, 4L * (batch + 1) + 4 * labels));
        if (_bert is null)
        {
            Bow(batch, lines);
        }
        else
        {
            Bert(batch, lines, notes);
        }
        Intermediate(batch, lines);
        Classifier(batch, lines);
        if (_data.Source.Contains("synthetic", StringComparison.Ordinal) && _bert is null)
        {
            notes.Add("stored features per point are the synthetic generator's expectation (repeated words counted once each), not counted in the data");
        }
        return new StepMemoryPlan(batch, lines, notes);
    }

    /// <summary>The bag-of-words encoder: the batch's CSR rows (row pointers, ids, values — allocated as
    /// activations), the dropped-out values, and [B, hidden] for the product, the bias sum and the ReLU (and the
    /// dropout); its backward's transient is one [B, hidden] gradient beside all parameter gradients.</summary>
    private void Bow(int batch, List<PlanLine> lines)
    {
        var m = _config.Model;
        long nnz = (long)Math.Round(batch * _data.FeaturesPerPoint);
        long rows = 4L * (batch + 1) + 8 * nnz + (m.InputDropout > 0 ? 4 * nnz : 0);
        lines.Add(new PlanLine("input rows (CSR)", MemoryFloor.EncoderPart, MemoryCategory.Activations, StepPhase.Step, rows));
        long h = 4L * batch * m.Hidden;
        lines.Add(new PlanLine("encoder outputs (product, bias, ReLU" + (m.HiddenDropout > 0 ? ", dropout)" : ")"), MemoryFloor.EncoderPart,
            MemoryCategory.Activations, StepPhase.Step, (m.HiddenDropout > 0 ? 4 : 3) * h));
        // the ReLU's input gradient, alive when the input weights' gradient is made (the classifier's input gradient
        // is freed by then)
        lines.Add(new PlanLine("gradient of the encoder output", MemoryFloor.EncoderPart, MemoryCategory.Gradients, StepPhase.Backward, h));
        lines.Add(new PlanLine("gradient of the encoder output", MemoryFloor.EncoderPart, MemoryCategory.Gradients, StepPhase.BackwardEnd, h));
    }

    /// <summary>The BERT encoder with <c>model.bertMemory=free</c> (each layer frees its temporaries) and dropout on,
    /// counted from what its ops keep, in units of the [B·T, d] and [B·T, ffn] tensors, the [B, heads, T, T]
    /// attention probabilities and [B·T] vectors (masks, LayerNorm statistics). Sequences are planned at
    /// <c>model.maxSeqLen</c> tokens: a batch is padded to its longest text, so shorter texts hold less.</summary>
    private void Bert(int batch, List<PlanLine> lines, List<string> notes)
    {
        var b = _bert!;
        var m = _config.Model;
        long t = m.MaxSeqLen, n = batch * t;
        long d = 4 * n * b.HiddenSize, ffn = 4 * n * b.IntermediateSize, probs = 4L * batch * b.NumAttentionHeads * t * t, vec = 4 * n;
        lines.Add(new PlanLine("token ids and attention mask", MemoryFloor.DataPart, MemoryCategory.Data, StepPhase.Step, 2 * vec));
        if (m.BertMemory != BertMemoryMode.Free || m.BertDropout <= 0)
        {
            notes.Add($"the encoder's activations are planned as bertMemory=free with dropout on hold them; this run has bertMemory={ModelConfigNames.BertMemory.Name(m.BertMemory)}, " +
                $"bertDropout={m.BertDropout}, which holds other amounts: take the measured figures and the batch of the measured line below");
        }
        // embeddings: position and type ids, three lookups, two sums, the LayerNorm output and its two statistics,
        // its dropout, the additive attention mask
        long embeddings = 7 * d + 5 * vec;
        // a layer keeps: q, k, v split into heads, the merged context, the attention LayerNorm's input and output,
        // the dropout output, the FFN's input-side product and GELU output, the output LayerNorm's input and output,
        // the probabilities, four statistics vectors
        long layer = 8 * d + 2 * ffn + probs + 4 * vec;
        lines.Add(new PlanLine("encoder activations (embeddings)", MemoryFloor.EncoderPart, MemoryCategory.Activations, StepPhase.Step, embeddings));
        lines.Add(new PlanLine($"encoder activations ({b.NumHiddenLayers} layers)", MemoryFloor.EncoderPart, MemoryCategory.Activations, StepPhase.Step, b.NumHiddenLayers * layer));
        // the last layer's feed-forward half before its segment frees its temporaries
        lines.Add(new PlanLine("feed-forward temporaries of a layer", MemoryFloor.EncoderPart, MemoryCategory.Activations, StepPhase.Forward, ffn + 3 * d));
        long pooled = vec + 4L * batch * b.HiddenSize;
        lines.Add(new PlanLine("pooled encoder output", MemoryFloor.EncoderPart, MemoryCategory.Activations, StepPhase.Loss, pooled));
        // The backward frees each layer's activations as it passes and makes its parameters' gradients. Its highest
        // point is in the first layer's feed-forward half (the later layers' activations and this layer's two
        // [B·T, ffn] ones freed; the later layers' gradients, the output dense's and LayerNorm's of this one, two
        // [B·T, ffn] gradients, the incoming [B·T, d] one), or at its end (all gradients, the embedding activations).
        long h = b.HiddenSize, ffnWidth = b.IntermediateSize;
        long layerGradients = 4 * (4 * h * h + 4 * h + 2 * h * ffnWidth + ffnWidth + h + 4 * h);
        long lastGradients = 4 * (ffnWidth * h + 3 * h);
        lines.Add(new PlanLine("activations freed by the first layer's feed-forward backward", MemoryFloor.EncoderPart, MemoryCategory.Activations, StepPhase.Backward,
            -((b.NumHiddenLayers - 1) * layer + 2 * ffn)));
        lines.Add(new PlanLine($"gradients of {b.NumHiddenLayers - 1} later layers and the first's output half", MemoryFloor.EncoderPart, MemoryCategory.Gradients, StepPhase.Backward,
            (b.NumHiddenLayers - 1) * layerGradients + lastGradients));
        lines.Add(new PlanLine("feed-forward input gradients of a layer", MemoryFloor.EncoderPart, MemoryCategory.Gradients, StepPhase.Backward, 2 * ffn + d + vec));
        lines.Add(new PlanLine("activations freed by the embeddings' backward", MemoryFloor.EncoderPart, MemoryCategory.Activations, StepPhase.BackwardEnd,
            -(b.NumHiddenLayers * layer)));
        lines.Add(new PlanLine("gradient of the embeddings' output", MemoryFloor.EncoderPart, MemoryCategory.Gradients, StepPhase.BackwardEnd, d));
    }

    /// <summary>The optional intermediate layer: product, bias sum and activation, [B, intermediate] each.</summary>
    private void Intermediate(int batch, List<PlanLine> lines)
    {
        int i = _config.Model.Intermediate;
        if (i > 0)
        {
            lines.Add(new PlanLine("intermediate layer outputs", MemoryFloor.EncoderPart, MemoryCategory.Activations, StepPhase.Step, 3 * 4L * batch * i));
        }
    }

    /// <summary>The classifier's fused loss: the label chunk's logits [chunk, B] (chunk from <c>model.labelChunk</c>
    /// or the 64 MiB default budget), for the fan-in head the transposed input and its gradient [w, B] and the
    /// backend's scatter workspace; the value and bias gradients are written in the same pass; then the input
    /// gradient [B, w].</summary>
    private void Classifier(int batch, List<PlanLine> lines)
    {
        var m = _config.Model;
        int w = Width, labels = _data.Labels;
        long extraPerLabel = m.Head == HeadKind.Masked ? 4L * w : 0;
        var chunking = m.Chunking() ?? LabelChunking.Default;
        long chunk = chunking.For(labels, 4L * batch + extraPerLabel);
        long logits = 4L * chunk * batch, input = 4L * batch * w;
        const string part = MemoryFloor.ClassifierPart;
        lines.Add(new PlanLine("loss value", part, MemoryCategory.Activations, StepPhase.Step, 4));
        long headGradients = (long)_floor.Where(i => i.Part == part && i.Category == MemoryCategory.Gradients).Sum(i => i.Bytes);
        lines.Add(new PlanLine("classifier gradients (in the fused loss)", part, MemoryCategory.Gradients, StepPhase.Loss, headGradients));
        if (m.Head == HeadKind.FanIn)
        {
            long scatter = _backend.FixedFanInBackwardInputWorkspaceBytes(batch, w);
            lines.Add(new PlanLine("transposed input and its gradient", part, MemoryCategory.Workspace, StepPhase.Loss, 2 * input));
            lines.Add(new PlanLine("input-gradient scatter workspace", part, MemoryCategory.Workspace, StepPhase.Loss, scatter));
            // the chunk's logits, then (once they are freed) the input gradient
            lines.Add(logits >= input
                ? new PlanLine("logits of one label chunk", part, MemoryCategory.Workspace, StepPhase.Loss, logits)
                : new PlanLine("input gradient", part, MemoryCategory.Gradients, StepPhase.Loss, input));
        }
        else
        {
            lines.Add(new PlanLine("logits of one label chunk", part, MemoryCategory.Workspace, StepPhase.Loss, logits));
            lines.Add(new PlanLine("input gradient", part, MemoryCategory.Gradients, StepPhase.Loss, input));
            if (m.Head == HeadKind.Masked)
            {
                lines.Add(new PlanLine("masked weights of one chunk", part, MemoryCategory.Workspace, StepPhase.Loss, 4L * chunk * w));
            }
        }
    }
}
