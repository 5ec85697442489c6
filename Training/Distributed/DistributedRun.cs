using System.Globalization;
using Xmc.Engine;
using Xmc.Engine.Distributed;
using Xmc.Models.Xmc;
using Xmc.Training.Checkpoints;
using Xmc.Training.Config;
using Xmc.Training.Loop;

namespace Xmc.Training.Distributed;

/// <summary>The ranks of one label-sharded training run and what they agree on besides the step: which rank opens
/// the run folder, where each rank's shard files go, and a stop that all take at
/// the same step. Rank 0 owns the run folder (lock, config, metrics, the checkpoint files of its block); rank r &gt; 0
/// writes its block's checkpoints into <c>rank-r/</c> there. A checkpoint is complete once rank 0's JSON is
/// written, which happens after every other rank has written its shard (a barrier between).</summary>
public sealed class DistributedRun(ICommunicator communicator)
{
    /// <summary>The ranks.</summary>
    public ICommunicator Communicator { get; } = communicator ?? throw new ArgumentNullException(nameof(communicator));

    /// <summary>This rank's block of <paramref name="labels"/> labels.</summary>
    public LabelShard ShardOf(int labels) => LabelShard.Of(labels, Communicator.Rank, Communicator.Size);

    /// <summary>Whether this rank speaks for the run (progress, metrics, config, lock).</summary>
    public bool IsLeader => Communicator.Rank == 0;

    /// <summary>The folder a rank's checkpoint files go in, inside <paramref name="folder"/> (rank 0: the folder itself).</summary>
    public string ShardFolder(string folder) => IsLeader ? folder : Path.Combine(folder, RankFolder(Communicator.Rank));

    /// <summary>The names of the ranks' sub-folders, as a file pattern (moved aside with the rest of a run by --force).</summary>
    public const string RankFolderPattern = "rank-*";

    /// <summary>The sub-folder of rank <paramref name="rank"/> &gt; 0.</summary>
    public static string RankFolder(int rank) => "rank-" + rank.ToString(CultureInfo.InvariantCulture);

    /// <summary>Refuses what a label-sharded run does not do yet, naming the field: only the bag-of-words encoder on
    /// the CPU with the fixed fan-in head, SET or no DST, no dropout, no auxiliary objective, no validation split, no
    /// kNN fusion and no prediction file.</summary>
    public static void CheckConfig(TrainConfig config, int ranks)
    {
        ArgumentNullException.ThrowIfNull(config);
        void Refuse(bool bad, string field, string why)
        {
            if (bad)
            {
                throw new ConfigException($"config field {field}: {why} is not supported in a run of {ranks} ranks yet (docs/distributed.md); train on one rank or change it");
            }
        }
        Refuse(config.Run.Device.Kind != DeviceKind.Cpu, "run.device", "a GPU device (MPI ranks move CPU tensors; the NCCL communicator is not built)");
        Refuse(config.Model.Encoder != EncoderKind.Bow, "model.encoder", "the bert encoder");
        Refuse(config.Model.Head != HeadKind.FanIn || config.Model.BackwardFanIn > config.Model.FanIn, "model.head", "a head other than the fixed fan-in one without a reservoir");
        Refuse(config.Model.AuxClusters > 0, "model.auxClusters", "the auxiliary label-cluster objective");
        Refuse(config.Model.RawFanIn > 0, "model.rawFanIn", "raw-feature slots in the head");
        Refuse(config.Model.InputDropout > 0 || config.Model.HiddenDropout > 0, "model.inputDropout/hiddenDropout", "dropout");
        Refuse(config.Dst.Algorithm is not (DstAlgorithmKind.None or DstAlgorithmKind.Set), "dst.algorithm", $"DST other than set ({TrainConfigNames.DstAlgorithm.Name(config.Dst.Algorithm)})");
        Refuse(config.Data.Validation is > 0, "data.validation", "a validation split (model selection)");
        Refuse(config.Fusion.Knn is > 0, "fusion.knn", "kNN fusion");
        Refuse(config.Run.SavePredictions, "run.savePredictions", "writing predictions");
    }

    /// <summary>Runs <paramref name="open"/> on rank 0 and tells every rank whether it worked: rank 0 rethrows its
    /// failure, the others throw one that points at rank 0's message (so no rank waits for a run that never starts).</summary>
    public T? OnLeader<T>(Func<T> open, string what) where T : class
    {
        T? result = null;
        Exception? failure = null;
        if (IsLeader)
        {
            try
            {
                result = open();
            }
            catch (Exception e)
            {
                failure = e;
            }
        }
        using var flag = Tensor.FromArray(new[] { failure is null ? 0f : 1f }, new Shape(1), Device.Cpu);
        Communicator.Broadcast(flag, 0);
        if (flag.ToArray<float>()[0] != 0)
        {
            if (failure is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            }
            throw new ConfigException($"rank 0 failed {what} (its message says why); rank {Communicator.Rank} stops too");
        }
        return result;
    }

    /// <summary>Whether any rank asks to stop (its <paramref name="local"/> flag: a signal, the step limit); every rank
    /// gets the same answer at the same step, so all write one checkpoint together.</summary>
    public bool AnyRank(bool local)
    {
        using var flag = Tensor.FromArray(new[] { local ? 1f : 0f }, new Shape(1), Device.Cpu);
        Communicator.AllReduceSum(flag);
        return flag.ToArray<float>()[0] > 0;
    }

    /// <summary>A DST update of the whole head from every rank's update of its block (all ranks call it at the same step).</summary>
    public Sparse.SlotChange Total(Sparse.SlotChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        // gathered as exact integers (a float sum would round beyond 2^24 slots), added here
        using var counts = Tensor.FromArray(new[] { checked((int)change.Changed), checked((int)change.Slots) }, new Shape(2), Device.Cpu);
        using var all = Communicator.AllGather(counts);
        var each = all.ToArray<int>();
        long changed = 0, slots = 0;
        for (int r = 0; r < Communicator.Size; r++)
        {
            changed += each[2 * r];
            slots += each[2 * r + 1];
        }
        return change with { Changed = changed, Slots = slots };
    }

    /// <summary>Saves a checkpoint on every rank: ranks &gt; 0 write their shard into their folder under
    /// <paramref name="folder"/>, then (after a barrier) rank 0 writes its own, whose JSON marks the checkpoint complete.</summary>
    public void Save(string folder, Action<string> save)
    {
        ArgumentNullException.ThrowIfNull(save);
        if (!IsLeader)
        {
            save(ShardFolder(folder));
        }
        Communicator.Barrier();
        if (IsLeader)
        {
            save(folder);
        }
        Communicator.Barrier();
    }

    /// <summary>Bytes of this rank's head: its parameters and their optimizer state.</summary>
    public static long HeadBytes(IXmcModel model, Optim.Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        return model.HeadParameters().Sum(p => p.Data.Bytes + (p.Trainable ? optimizer.State(p).Sum(s => s.Bytes) : 0));
    }
}
