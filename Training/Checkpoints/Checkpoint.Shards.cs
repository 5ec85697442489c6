using Xmc.Engine;
using Xmc.Engine.Distributed;
using Xmc.Models;
using Xmc.Models.IO;
using Xmc.Models.Xmc;
using Xmc.Training.Optim;

namespace Xmc.Training.Checkpoints;

/// <summary>Checkpoints of a label-sharded run: rank 0's pair in the run folder, rank r's in <c>rank-r/</c> there
/// (docs/distributed.md). Loaded whole, for evaluation and prediction on one process.</summary>
public static partial class Checkpoint
{
    /// <summary>The name of the extra tensor a label-sharded run stores in each rank's checkpoint: [ranks, rank].</summary>
    public const string RanksExtra = "ranks";

    /// <summary>The JSON paths of every shard of the checkpoint <paramref name="path"/> names, rank order: just that
    /// checkpoint when it is of a one-process run, else rank 0's and the <c>rank-r/</c> file of the same step of each
    /// of the ranks that wrote it (their count is stored with the checkpoint, so leftovers of a run with more ranks
    /// are not taken for shards).</summary>
    public static IReadOnlyList<string> Shards(string path)
    {
        string index = Resolve(path);
        var info = ReadInfo(index);
        int ranks = 1;
        if (TensorShapes(index, info).ContainsKey("extra." + RanksExtra))
        {
            ranks = (int)ReadExtra(index, RanksExtra)[0];
        }
        string folder = Path.GetDirectoryName(Path.GetFullPath(index))!, stem = Path.GetFileName(index);
        var shards = new List<string> { index };
        for (int r = 1; r < ranks; r++)
        {
            string shard = Path.Combine(folder, Distributed.DistributedRun.RankFolder(r), stem);
            shards.Add(File.Exists(shard) ? shard
                : throw new CheckpointException($"{index}: the checkpoint was written by {ranks} ranks, but rank {r}'s shard {shard} is missing"));
        }
        return shards;
    }

    /// <summary>Loads the whole model from the shards of a label-sharded checkpoint (<see cref="Shards"/>): the
    /// encoder from rank 0's file, each rank's block of the head into its rows of the head, every shard's checksum and
    /// step checked, then the model's invariants.</summary>
    public static void LoadShardedModel(IReadOnlyList<string> shards, Module model, int labels)
        => LoadShards(shards, model, null, labels, LabelShard.Whole(labels));

    /// <summary>Resumes onto another rank count: loads the block <paramref name="into"/> of the head (and its optimizer
    /// state) from the shards of a checkpoint written by any number of ranks (one included), the encoder and its state
    /// from rank 0's file; returns the progress. Each overlapping shard is read whole once per tensor.</summary>
    public static TrainingProgress LoadResharded(IReadOnlyList<string> shards, Module model, Optimizer optimizer, int labels, LabelShard into)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        var info = LoadShards(shards, model, optimizer, labels, into);
        optimizer.RestoreStepCount(info.OptimizerSteps);
        return new TrainingProgress(info.Step, info.Epoch, info.BatchInEpoch);
    }

    private static CheckpointInfo LoadShards(IReadOnlyList<string> shards, Module model, Optimizer? optimizer, int labels, LabelShard into)
    {
        ArgumentNullException.ThrowIfNull(shards);
        ArgumentNullException.ThrowIfNull(model);
        var infos = shards.Select(ReadInfo).ToArray();
        var files = new List<SafetensorsFile>();
        try
        {
            for (int r = 0; r < shards.Count; r++)
            {
                if (infos[r].Step != infos[0].Step || infos[r].Labels != labels)
                {
                    throw new CheckpointException($"{shards[r]}: step {infos[r].Step} over {infos[r].Labels} labels, but rank 0's checkpoint {shards[0]} is step {infos[0].Step} over {labels}; the run folder mixes runs");
                }
                files.Add(OpenTensors(shards[r], infos[r]));
            }
            string head = OutputHeads.ChildName + ".";
            foreach (var (name, p) in model.NamedParameters())
            {
                var targets = new List<(string Name, Tensor Tensor)> { ("model." + name, p.Data) };
                if (optimizer is not null && p.Trainable)
                {
                    var state = optimizer.State(p);
                    targets.AddRange(state.Select((t, s) => ($"optim.{name}.{s}", t)));
                }
                foreach (var (stored, target) in targets)
                {
                    if (name.StartsWith(head, StringComparison.Ordinal))
                    {
                        CopyRows(files, labels, stored, target, into);
                    }
                    else
                    {
                        CopyInto(files[0], stored, target);
                    }
                }
            }
            CheckModel(files[0], model);
            return infos[0];
        }
        finally
        {
            files.ForEach(f => f.Dispose());
        }
    }

    /// <summary>Copies the rows <paramref name="into"/> of the head tensor <paramref name="name"/>, held in blocks by the
    /// shard files (rank r: its ⌈L/P⌉-block), into <paramref name="target"/>.</summary>
    private static void CopyRows(List<SafetensorsFile> files, int labels, string name, Tensor target, LabelShard into)
    {
        long rowBytes = target.Bytes / target.Shape[0];
        for (int r = 0; r < files.Count; r++)
        {
            var held = LabelShard.Of(labels, r, files.Count);
            int from = Math.Max(held.First, into.First), to = Math.Min(held.First + held.Count, into.First + into.Count);
            if (from >= to)
            {
                continue;
            }
            var dims = target.Shape.ToArray();
            dims[0] = held.Count;
            using var block = Tensor.Empty(new Shape(dims), target.DType, target.Device, target.Category);
            CopyInto(files[r], name, block);
            target.Backend.Copy(target.Address + (nint)((from - into.First) * rowBytes), block.Address + (nint)((from - held.First) * rowBytes), (to - from) * rowBytes);
        }
    }
}
