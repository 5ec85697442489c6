using Xmc.Engine;

namespace Xmc.Models.Bert;

/// <summary>The end-to-end XMC model: BERT encoder (child <c>bert</c>, so the names match Hugging Face task
/// checkpoints) → pooled sequence vector → optional intermediate layer → output head over the labels (fixed
/// fan-in sparse, dense or masked), and optionally an auxiliary module (child <c>aux</c>, e.g. a head over label
/// clusters) that the trainer feeds from the pooled vector. Owns and disposes its parts.</summary>
public sealed class BertXmcModel : Module
{
    /// <summary>Wires the parts; <paramref name="head"/> must be a module implementing <see cref="IOutputHead"/>
    /// whose input width is the intermediate layer's (or the encoder's) output width. <paramref name="auxiliary"/>
    /// joins the encoder parameter group.</summary>
    public BertXmcModel(BertModel encoder, IntermediateLayer? intermediate, Module head, SequencePooling pooling, Module? auxiliary = null)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(head);
        if (head is not IOutputHead outputHead)
        {
            throw new ArgumentException($"{head.GetType().Name} is not an output head (IOutputHead)", nameof(head));
        }
        int width = intermediate?.OutFeatures ?? encoder.Config.HiddenSize;
        if (intermediate is not null && intermediate.Dense.InFeatures != encoder.Config.HiddenSize)
        {
            throw new ArgumentException($"intermediate layer takes width {intermediate.Dense.InFeatures}, the encoder gives {encoder.Config.HiddenSize}", nameof(intermediate));
        }
        if (outputHead.InFeatures != width)
        {
            throw new ArgumentException($"output head takes width {outputHead.InFeatures}, the layer below gives {width}", nameof(head));
        }
        Pooling = pooling;
        Bert = Register("bert", encoder);
        Intermediate = intermediate is null ? null : Register("intermediate", intermediate);
        Register("head", head);
        Head = outputHead;
        Auxiliary = auxiliary is null ? null : Register("aux", auxiliary);
    }

    /// <summary>The auxiliary module, or null.</summary>
    public Module? Auxiliary { get; }

    /// <summary>The text encoder.</summary>
    public BertModel Bert { get; }

    /// <summary>The optional intermediate layer.</summary>
    public IntermediateLayer? Intermediate { get; }

    /// <summary>The classifier.</summary>
    public IOutputHead Head { get; }

    /// <summary>How the token vectors become the head's input.</summary>
    public SequencePooling Pooling { get; }

    /// <summary>Turns dropout on in the encoder and the intermediate layer (one shared stream).</summary>
    public void Train(PhiloxStream dropoutStream) => Bert.Train(dropoutStream);

    /// <summary>Turns dropout off.</summary>
    public void Eval() => Bert.Eval();

    /// <summary>The head's input [B, width] for ids and attention mask [B, T] (Int32).</summary>
    public Tensor Represent(Tensor inputIds, Tensor attentionMask)
    {
        var pooled = Bert.Encode(inputIds, attentionMask, Pooling);
        return Intermediate is null ? pooled : Intermediate.Forward(pooled);
    }

    /// <summary>BCE-with-logits over all labels (mean over the batch of the sum over labels), recorded for autodiff.</summary>
    public Tensor Loss(Tensor inputIds, Tensor attentionMask, PositiveLabels targets, LabelChunking? chunking = null)
        => Head.Loss(Represent(inputIds, attentionMask), targets, chunking);

    /// <summary>The <paramref name="k"/> best labels per row, scores descending.</summary>
    public (Tensor Scores, Tensor Labels) TopK(Tensor inputIds, Tensor attentionMask, int k, LabelChunking? chunking = null)
        => Head.TopK(Represent(inputIds, attentionMask), k, chunking);

    /// <summary>The encoder group (BERT and the intermediate layer), for its own learning rate.</summary>
    public IEnumerable<Parameter> EncoderParameters()
        => NamedParameters().Where(p => !p.Name.StartsWith("head.", StringComparison.Ordinal)).Select(p => p.Parameter);

    /// <summary>The classifier group (the output head).</summary>
    public IEnumerable<Parameter> ClassifierParameters()
        => NamedParameters().Where(p => p.Name.StartsWith("head.", StringComparison.Ordinal)).Select(p => p.Parameter);
}
