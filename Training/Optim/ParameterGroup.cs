using Xmc.Models;

namespace Xmc.Training.Optim;

/// <summary>Parameters that share a base learning rate and weight decay (e.g. the encoder vs the classifier).</summary>
public sealed record ParameterGroup(IReadOnlyList<Parameter> Parameters, float LearningRate, float WeightDecay = 0f);
