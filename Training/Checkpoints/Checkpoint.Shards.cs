using Xmc.Engine;
using Xmc.Engine.Distributed;
using Xmc.Models;
using Xmc.Models.IO;
using Xmc.Models.Xmc;

namespace Xmc.Training.Checkpoints;

/// <summary>Checkpoints of a label-sharded run: rank 0's pair in the run folder, rank r's in <c>rank-r/</c> there
/// (docs/distributed.md). Loaded whole, for evaluation and prediction on one process.</summary>
public static partial class Checkpoint
{
    /// <summary>The JSON paths of every shard of the checkpoint <paramref name="path"/> names, rank order: just that
    /// checkpoint when it is of a one-process run, else rank 0's and each <c>rank-r/</c> file of the same step.</summary>
    public static IReadOnlyList<string> Shards(string path)
    {
        string index = Resolve(path);
        string folder = Path.GetDirectoryName(Path.GetFullPath(index))!, stem = Path.GetFileName(index);
        var shards = new List<string> { index };
        for (int r = 1; File.Exists(Path.Combine(folder, Distributed.DistributedRun.RankFolder(r), stem)); r++)
        {
            shards.Add(Path.Combine(folder, Distributed.DistributedRun.RankFolder(r), stem));
        }
        return shards;
    }

    /// <summary>Loads the whole model from the shards of a label-sharded checkpoint (<see cref="Shards"/>): the
    /// encoder from rank 0's file, each rank's block of the head into rows ⌈L/P⌉·r … of the head, every shard's checksum
    /// and step checked, then the model's invariants.</summary>
    public static void LoadShardedModel(IReadOnlyList<string> shards, Module model, int labels)
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
                if (!name.StartsWith(head, StringComparison.Ordinal))
                {
                    CopyInto(files[0], "model." + name, p.Data);
                    continue;
                }
                long rowBytes = p.Data.Bytes / p.Shape[0];
                for (int r = 0; r < files.Count; r++)
                {
                    var shard = LabelShard.Of(labels, r, files.Count);
                    var dims = p.Shape.ToArray();
                    dims[0] = shard.Count;
                    using var block = Tensor.Empty(new Shape(dims), p.DType, p.Data.Device, p.Data.Category);
                    CopyInto(files[r], "model." + name, block);
                    p.Data.Backend.Copy(p.Data.Address + (nint)(shard.First * rowBytes), block.Address, block.Bytes);
                }
            }
            CheckModel(files[0], model);
        }
        finally
        {
            files.ForEach(f => f.Dispose());
        }
    }
}
