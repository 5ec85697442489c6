using System.Text;

namespace Xmc.Models.Text;

/// <summary>A WordPiece vocabulary: token i is line i of a BERT <c>vocab.txt</c>. Tokens starting with "##"
/// continue a word; the others start one.</summary>
public sealed class WordPieceVocabulary
{
    /// <summary>Padding token.</summary>
    public const string Pad = "[PAD]";
    /// <summary>Unknown-word token.</summary>
    public const string Unknown = "[UNK]";
    /// <summary>Sequence-start (classification) token.</summary>
    public const string Classification = "[CLS]";
    /// <summary>Sequence-end (separator) token.</summary>
    public const string Separator = "[SEP]";
    /// <summary>Masked-language-model token (not needed for classification; written by the builder).</summary>
    public const string Mask = "[MASK]";
    /// <summary>Prefix of word-continuing pieces.</summary>
    public const string ContinuationPrefix = "##";

    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _starts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _continuations = new(StringComparer.Ordinal);

    /// <summary>Builds a vocabulary from tokens in id order; <paramref name="source"/> names it in errors.
    /// A token listed twice maps to its last id (as Hugging Face reads vocab files).</summary>
    /// <exception cref="FormatException">[PAD], [UNK], [CLS] or [SEP] is missing, or a token has a line break.</exception>
    public WordPieceVocabulary(IReadOnlyList<string> tokens, string source = "vocabulary")
    {
        _tokens = [.. tokens];
        for (int id = 0; id < _tokens.Length; id++)
        {
            var token = _tokens[id];
            if (token.AsSpan().IndexOfAny('\n', '\r') >= 0)
            {
                throw new FormatException($"{source}: token {id} contains a line break");
            }
            if (token.Length > ContinuationPrefix.Length && token.StartsWith(ContinuationPrefix, StringComparison.Ordinal))
            {
                _continuations[token[ContinuationPrefix.Length..]] = id;
            }
            else
            {
                _starts[token] = id;
            }
        }
        PadId = Required(Pad, source);
        UnknownId = Required(Unknown, source);
        ClassificationId = Required(Classification, source);
        SeparatorId = Required(Separator, source);
        MaxStartLength = _starts.Keys.Select(k => k.Length).DefaultIfEmpty(0).Max();
        MaxContinuationLength = _continuations.Keys.Select(k => k.Length).DefaultIfEmpty(0).Max();
        Starts = _starts.GetAlternateLookup<ReadOnlySpan<char>>();
        Continuations = _continuations.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    private int Required(string token, string source)
        => _starts.TryGetValue(token, out int id) ? id : throw new FormatException($"{source}: the vocabulary has no '{token}' token");

    /// <summary>Number of tokens (ids are 0 … Count − 1).</summary>
    public int Count => _tokens.Length;

    /// <summary>The token with id <paramref name="id"/>.</summary>
    public string this[int id] => _tokens[id];

    /// <summary>Id of [PAD].</summary>
    public int PadId { get; }

    /// <summary>Id of [UNK].</summary>
    public int UnknownId { get; }

    /// <summary>Id of [CLS].</summary>
    public int ClassificationId { get; }

    /// <summary>Id of [SEP].</summary>
    public int SeparatorId { get; }

    /// <summary>The id of <paramref name="token"/> (written with its "##" prefix for continuations), or -1.</summary>
    public int IdOf(string token)
    {
        if (token.Length > ContinuationPrefix.Length && token.StartsWith(ContinuationPrefix, StringComparison.Ordinal))
        {
            return _continuations.GetValueOrDefault(token[ContinuationPrefix.Length..], -1);
        }
        return _starts.GetValueOrDefault(token, -1);
    }

    internal int MaxStartLength { get; }

    internal int MaxContinuationLength { get; }

    internal Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> Starts { get; }

    internal Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> Continuations { get; }

    /// <summary>Reads a <c>vocab.txt</c> (UTF-8, one token per line; a trailing CR is dropped).</summary>
    /// <exception cref="FormatException">A required special token is missing; the message names the file.</exception>
    public static WordPieceVocabulary Load(string path)
    {
        var lines = File.ReadAllText(path, Encoding.UTF8).Split('\n');
        // A final newline ends the last token; it does not start an empty one.
        int count = lines.Length > 0 && lines[^1].Length == 0 ? lines.Length - 1 : lines.Length;
        var tokens = new string[count];
        for (int i = 0; i < count; i++)
        {
            tokens[i] = lines[i].EndsWith('\r') ? lines[i][..^1] : lines[i];
        }
        return new WordPieceVocabulary(tokens, path);
    }

    /// <summary>Writes the vocabulary as <c>vocab.txt</c> (UTF-8 without BOM, '\n' after every token), through
    /// a temporary file renamed over the target.</summary>
    public void Save(string path)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            using (var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)))
            {
                foreach (var token in _tokens)
                {
                    writer.Write(token);
                    writer.Write('\n');
                }
                writer.Flush();
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
