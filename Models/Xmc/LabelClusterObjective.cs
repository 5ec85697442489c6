using Xmc.Engine;

namespace Xmc.Models.Xmc;

/// <summary>The auxiliary label-cluster objective: a dense head Linear(width → C) over a representation, trained
/// with BCE-with-logits on "the point has a label in cluster c" (mean over the batch, sum over clusters — the
/// main loss's convention), its loss scaled by the caller's weight λ_t. It is a module so that its parameters
/// (<c>head.weight</c>, <c>head.bias</c>) travel with the model that registers it; the label → cluster
/// assignment is attached separately (<see cref="Attach"/>), as it comes from the training data.</summary>
public sealed class LabelClusterObjective : Module
{
    /// <summary>Builds the cluster head for a <paramref name="width"/>-wide representation and
    /// <paramref name="clusters"/> clusters (weights from Philox stream <paramref name="seed"/>).</summary>
    public LabelClusterObjective(int width, int clusters, ulong seed, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(clusters, 2);
        Head = Register("head", new DenseLinear(width, clusters, seed, device: device));
    }

    /// <summary>The dense cluster head [C, width] + [C].</summary>
    public DenseLinear Head { get; }

    /// <summary>Number of clusters C.</summary>
    public int Clusters => Head.Labels;

    /// <summary>The label → cluster assignment, once attached.</summary>
    public LabelClusters? Assignment { get; private set; }

    /// <summary>Uses <paramref name="assignment"/> (built for the training labels, or restored from a checkpoint).</summary>
    public void Attach(LabelClusters assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        if (assignment.Count != Clusters)
        {
            throw new ArgumentException($"label-cluster objective: the assignment has {assignment.Count} clusters, the head {Clusters}", nameof(assignment));
        }
        Assignment = assignment;
    }

    /// <summary>Starts each cluster's bias at the log-odds of its frequency in <paramref name="trainLabels"/>
    /// (as the main head does), so the first steps do not go to pulling C biases to their priors.</summary>
    public void InitialiseBias(CsrMatrix trainLabels)
    {
        var assignment = Assignment ?? throw new InvalidOperationException("label-cluster objective: attach the cluster assignment first");
        PriorBias.Initialise(Head.Bias!, assignment.PointCounts(trainLabels), trainLabels.Rows);
    }

    /// <summary>λ·BCE(Head(<paramref name="representation"/>), <paramref name="clusterTargets"/>), a scalar recorded by
    /// autodiff; null when <paramref name="weight"/> is 0 — then nothing is computed, the head gets no gradient and
    /// the optimizer skips it.</summary>
    /// <param name="representation">[B, width] Float32.</param>
    /// <param name="clusterTargets">The batch's positive clusters (<see cref="LabelClusters.Targets"/> of each row's
    /// labels), built on the host from the labels, so no label list goes device → host → device.</param>
    /// <param name="weight">λ_t ≥ 0.</param>
    public Tensor? Loss(Tensor representation, PositiveLabels clusterTargets, float weight)
    {
        ArgumentNullException.ThrowIfNull(representation);
        ArgumentNullException.ThrowIfNull(clusterTargets);
        if (weight == 0)
        {
            return null;
        }
        if (clusterTargets.NumLabels != Clusters)
        {
            throw new ArgumentException($"label-cluster objective: the targets index {clusterTargets.NumLabels} clusters, the head has {Clusters}", nameof(clusterTargets));
        }
        return Ops.MulScalar(Head.Loss(representation, clusterTargets), weight);
    }
}
