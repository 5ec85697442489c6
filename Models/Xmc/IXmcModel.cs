using Xmc.Engine;

namespace Xmc.Models.Xmc;

/// <summary>An XMC model, whatever its encoder: the representation of a batch of points, the output head on top of
/// it, the optional auxiliary objective, and the parameter groups that get their own learning rates. Built from an
/// <see cref="XmcModelConfig"/> by <see cref="XmcModelBuilder"/>.</summary>
public interface IXmcModel : IDisposable
{
    /// <summary>The whole model as a module (checkpoints store its named parameters).</summary>
    Module Module { get; }

    /// <summary>The output layer.</summary>
    IOutputHead Head { get; }

    /// <summary>The auxiliary label-cluster objective on the encoder output (model.auxClusters &gt; 0), or null.</summary>
    LabelClusterObjective? Aux { get; }

    /// <summary>Points per batch when predicting: a batch keeps every layer's outputs until it ends, so a deep
    /// encoder wants fewer than the bag-of-words model.</summary>
    int PredictionBatchSize { get; }

    /// <summary>One line for the log: the layers and their widths.</summary>
    string Description { get; }

    /// <summary>The encoder output [B, hidden] for <paramref name="batch"/>, recorded for autodiff. Call inside a
    /// <see cref="TensorScope"/>: the tensors it makes belong to it.</summary>
    /// <exception cref="ArgumentException">The batch is not the input of this model's encoder kind.</exception>
    Tensor Embed(XmcBatch batch);

    /// <summary>The head's input [B, width] from the encoder output: through the intermediate layer when there is one.</summary>
    Tensor Project(Tensor embedding);

    /// <summary>The head's input for <paramref name="batch"/> from its encoder output <paramref name="embedding"/>:
    /// <see cref="Project"/> of it, and for a bag-of-words model with raw-feature slots (model.rawFanIn) the batch's
    /// weighted features beside it.</summary>
    Tensor HeadInput(XmcBatch batch, Tensor embedding) => Project(embedding);

    /// <summary>Parameters of the encoder side (everything below the head, intermediate layer and auxiliary head included).</summary>
    IEnumerable<Parameter> EncoderParameters();

    /// <summary>Parameters of the output head.</summary>
    IEnumerable<Parameter> HeadParameters();

    /// <summary>Turns dropout on for the step <paramref name="step"/> of a run seeded with <paramref name="seed"/>:
    /// its masks are a function of (seed, step), so a resumed run draws the same ones.</summary>
    void TrainMode(ulong seed, long step);

    /// <summary>Turns dropout off (evaluation, prediction).</summary>
    void EvalMode();
}
