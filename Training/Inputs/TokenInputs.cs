using Xmc.Engine;
using Xmc.Models.Text;
using Xmc.Models.Xmc;
using Xmc.Training.Data;

namespace Xmc.Training.Inputs;

/// <summary>The BERT encoder's input of one split: every point's text tokenized once, up front, as
/// [CLS] pieces [SEP] truncated to the sequence length. A batch pads its rows to the longest of them.</summary>
public sealed class TokenInputs : XmcInputs
{
    private readonly int[][] _ids;

    private readonly int _vocabularySize;
    private readonly int[] _specialIds;

    private TokenInputs(int[][] ids, int padId, int vocabularySize, int[] specialIds)
    {
        _ids = ids;
        PadId = padId;
        _vocabularySize = vocabularySize;
        _specialIds = specialIds;
    }

    /// <summary>Tokenizes the texts of <paramref name="split"/> (in parallel: the tokenizer is thread-safe) into
    /// rows of at most <paramref name="maxLength"/> tokens.</summary>
    /// <exception cref="XmcDataException">The split has no raw text.</exception>
    public static TokenInputs Tokenize(XmcDataset split, string source, WordPieceTokenizer tokenizer, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(tokenizer);
        var texts = split.PointTexts ?? throw new XmcDataException(source, "the data set has no raw text",
            "the bert encoder reads text: give a raw-text JSONL set (data.train, data.labelTitles) or no data (synthetic text), or train with model.encoder=bow");
        var vocab = tokenizer.Vocabulary;
        var ids = new int[texts.Length][];
        Parallel.For(0, texts.Length, () => new List<int>(maxLength), (i, _, row) =>
        {
            row.Clear();
            row.Add(vocab.ClassificationId);
            tokenizer.Tokenize(texts[i].Text, row, maxLength - 2);
            row.Add(vocab.SeparatorId);
            ids[i] = [.. row];
            return row;
        }, _ => { });
        return new TokenInputs(ids, vocab.PadId, vocab.Count, [vocab.PadId, vocab.ClassificationId, vocab.SeparatorId]);
    }

    /// <inheritdoc/>
    public override int Count => _ids.Length;

    /// <summary>The [PAD] id.</summary>
    public int PadId { get; }

    /// <summary>The token ids of point <paramref name="point"/>, [CLS] and [SEP] included.</summary>
    public ReadOnlySpan<int> Row(int point) => _ids[point];

    /// <summary>Mean tokens per point, [CLS] and [SEP] included.</summary>
    public double MeanLength => _ids.Length == 0 ? 0 : _ids.Average(r => (double)r.Length);

    /// <summary>Every point as a bag of its WordPiece tokens ([CLS], [SEP] and [PAD] left out): points × vocabulary,
    /// value 1 + ln(count) — sparse point vectors for what needs them on a text-only data set (clustering labels
    /// for the auxiliary objective).</summary>
    public CsrMatrix BagOfTokens() => BagOfTokens(_vocabularySize, _specialIds);

    /// <summary><see cref="BagOfTokens()"/> over a vocabulary of <paramref name="vocabularySize"/> ids, leaving out
    /// <paramref name="specialIds"/>.</summary>
    public CsrMatrix BagOfTokens(int vocabularySize, int[] specialIds)
    {
        var builder = new CsrMatrixBuilder(withValues: true, _ids.Length);
        var ids = new List<int>();
        var values = new List<float>();
        var sorted = new List<int>();
        foreach (var row in _ids)
        {
            sorted.Clear();
            foreach (int t in row)
            {
                if (Array.IndexOf(specialIds, t) < 0)
                {
                    sorted.Add(t);
                }
            }
            sorted.Sort();
            ids.Clear();
            values.Clear();
            for (int j = 0; j < sorted.Count;)
            {
                int end = j;
                while (end < sorted.Count && sorted[end] == sorted[j])
                {
                    end++;
                }
                ids.Add(sorted[j]);
                values.Add(1 + MathF.Log(end - j));
                j = end;
            }
            builder.AppendRow(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ids), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(values));
        }
        return builder.Build(vocabularySize);
    }

    /// <summary>Ids and attention mask [B, T] (Int32, scope-tracked) of the points <paramref name="rows"/>, T the
    /// longest row's length.</summary>
    public override XmcBatch Batch(ReadOnlySpan<int> rows, Device device)
    {
        var (ids, mask) = Tensors(rows, device);
        return new TokenIdBatch(ids, mask);
    }

    /// <summary>Ids and attention mask [B, T] (Int32, scope-tracked) of the points <paramref name="rows"/>, T the
    /// longest row's length.</summary>
    public (Tensor InputIds, Tensor AttentionMask) Tensors(ReadOnlySpan<int> rows, Device device)
    {
        int length = 1;
        foreach (int r in rows)
        {
            length = Math.Max(length, _ids[r].Length);
        }
        var ids = new int[rows.Length * length];
        var mask = new int[rows.Length * length];
        ids.AsSpan().Fill(PadId);
        for (int i = 0; i < rows.Length; i++)
        {
            var row = _ids[rows[i]];
            row.CopyTo(ids.AsSpan(i * length));
            mask.AsSpan(i * length, row.Length).Fill(1);
        }
        var shape = new Shape(rows.Length, length);
        return (Tensor.FromArray(ids, shape, device, Engine.Memory.MemoryCategory.Data), Tensor.FromArray(mask, shape, device, Engine.Memory.MemoryCategory.Data));
    }
}
