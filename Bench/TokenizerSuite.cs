using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Xmc.Models.Text;
using MlBert = Microsoft.ML.Tokenizers.BertTokenizer;
using MlBertOptions = Microsoft.ML.Tokenizers.BertOptions;

namespace Xmc.Bench;

/// <summary>Suite <c>tokenizer</c>: WordPiece tokens per second on a synthetic corpus, one thread, against
/// Microsoft.ML.Tokenizers' BertTokenizer on the same vocabulary in the same run, and how many BERT-mini
/// training steps (batch 32 × 128 tokens) per second that throughput can feed.</summary>
public static class TokenizerSuite
{
    private const int TokensPerStep = 32 * 128;

    /// <summary>Runs the suite; returns the process exit code.</summary>
    public static int Run()
    {
        var corpus = SyntheticCorpus(documents: 4000, wordsPerDocument: 200, seed: 1);
        var builder = new WordPieceVocabBuilder();
        var buildTime = Stopwatch.StartNew();
        foreach (var doc in corpus)
        {
            builder.Add(doc);
        }
        var vocab = builder.Build(vocabSize: 30000, minWordCount: 2);
        buildTime.Stop();

        var dir = Directory.CreateTempSubdirectory("xmc-tokenizer-bench");
        var vocabPath = Path.Combine(dir.FullName, "vocab.txt");
        vocab.Save(vocabPath);
        var ours = new WordPieceTokenizer(vocab);
        var theirs = MlBert.Create(vocabPath, new MlBertOptions { LowerCaseBeforeTokenization = true });

        double ourRate = Rate(() =>
        {
            long tokens = 0;
            for (int i = 0; i < corpus.Count; i += 32)
            {
                var batch = ours.EncodeBatch(corpus.Skip(i).Take(32).ToList(), maxLength: 512);
                tokens += batch.Lengths.Sum() - 2L * batch.BatchSize;
            }
            return tokens;
        });
        double theirRate = Rate(() => corpus.Sum(doc => (long)theirs.EncodeToIds(doc, addSpecialTokens: false).Count));
        dir.Delete(recursive: true);

        Console.WriteLine($"corpus: {corpus.Count} documents, {corpus.Sum(d => d.Length) / 1e6:F1} M chars; vocabulary {vocab.Count} tokens built in {buildTime.Elapsed.TotalSeconds:F2} s");
        Console.WriteLine($"{"case",-34} {"tokens/s",14} {"baseline",14} {"ratio",7}");
        Console.WriteLine($"{"wordpiece (EncodeBatch, 1 thread)",-34} {ourRate,14:N0} {theirRate,14:N0} {ourRate / theirRate,7:F2}");
        Console.WriteLine($"BERT-mini steps/s fed (32×128 tokens): {ourRate / TokensPerStep:N0}");

        Directory.CreateDirectory("bench-results");
        var rows = new[]
        {
            new { suite = "tokenizer", @case = "wordpiece-1thread", metric = "tokens_per_s", value = ourRate, unit = "tokens/s",
                  baseline = "Microsoft.ML.Tokenizers BertTokenizer", baseline_value = theirRate, ratio = ourRate / theirRate, higher_is_better = true },
            new { suite = "tokenizer", @case = "wordpiece-1thread", metric = "bert_mini_steps_fed_per_s", value = ourRate / TokensPerStep, unit = "steps/s",
                  baseline = "one step per second", baseline_value = 1.0, ratio = ourRate / TokensPerStep, higher_is_better = true },
        };
        File.WriteAllLines(Path.Combine("bench-results", "tokenizer.jsonl"), rows.Select(r => JsonSerializer.Serialize(r)));
        return 0;
    }

    /// <summary>Best tokens/s of three runs after one warm-up.</summary>
    private static double Rate(Func<long> run)
    {
        run();
        double best = 0;
        for (int i = 0; i < 3; i++)
        {
            var sw = Stopwatch.StartNew();
            long tokens = run();
            best = Math.Max(best, tokens / sw.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <summary>Documents of Zipf-distributed words (random lowercase and capitalised letter strings, some
    /// accented), with punctuation between them: a stand-in for product titles and descriptions.</summary>
    private static List<string> SyntheticCorpus(int documents, int wordsPerDocument, int seed)
    {
        var r = new Random(seed);
        const string letters = "abcdefghijklmnopqrstuvwxyzéèüö";
        var words = Enumerable.Range(0, 50000)
            .Select(_ => new string(Enumerable.Range(0, r.Next(2, 13)).Select(_ => letters[r.Next(r.Next(2) == 0 ? 26 : letters.Length)]).ToArray()))
            .ToArray();
        // Zipf(1) by inverse transform over cumulative weights.
        var cumulative = new double[words.Length];
        double total = 0;
        for (int i = 0; i < words.Length; i++)
        {
            total += 1.0 / (i + 1);
            cumulative[i] = total;
        }
        string[] separators = [" ", " ", " ", " ", " ", ", ", ". ", " - ", " (", ") ", " & ", "'s "];
        var docs = new List<string>(documents);
        var sb = new StringBuilder();
        for (int d = 0; d < documents; d++)
        {
            sb.Clear();
            for (int w = 0; w < wordsPerDocument; w++)
            {
                int at = Array.BinarySearch(cumulative, r.NextDouble() * total);
                var word = words[at < 0 ? ~at : at];
                sb.Append(r.Next(8) == 0 ? char.ToUpperInvariant(word[0]) + word[1..] : word);
                sb.Append(separators[r.Next(separators.Length)]);
            }
            docs.Add(sb.ToString());
        }
        return docs;
    }
}
