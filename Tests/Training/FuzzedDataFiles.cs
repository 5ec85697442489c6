using System.Diagnostics;
using Xmc.Training.Data;

namespace Xmc.Tests.Training;

/// <summary>The fuzzing the data-format tests share: random edits of a valid file, then a parse that either
/// succeeds or fails with a located <see cref="XmcDataException"/>, quickly.</summary>
internal static class FuzzedDataFiles
{
    /// <summary><paramref name="valid"/> with 1 + <paramref name="mutations"/> % 6 characters deleted, inserted or
    /// replaced (from <paramref name="alphabet"/>) at random places.</summary>
    public static string Mutate(Random r, string valid, string alphabet, byte mutations)
    {
        var text = valid.ToList();
        for (int m = 0; m <= mutations % 6; m++)
        {
            int pos = text.Count == 0 ? 0 : r.Next(text.Count);
            switch (r.Next(3))
            {
                case 0 when text.Count > 0: text.RemoveAt(pos); break;
                case 1: text.Insert(pos, alphabet[r.Next(alphabet.Length)]); break;
                default: if (text.Count > 0) text[pos] = alphabet[r.Next(alphabet.Length)]; break;
            }
        }
        return new string([.. text]);
    }

    /// <summary>Runs <paramref name="parse"/> on <paramref name="text"/>: any exception but an
    /// <see cref="XmcDataException"/> whose message starts <c>file:line:column: </c> fails the test; true when the
    /// parse finished within 2 s.</summary>
    public static bool ParsesOrFailsLocated(string text, string file, Action<string> parse)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            parse(text);
        }
        catch (XmcDataException e)
        {
            if (e.Line is null || e.Column is null || !e.Message.StartsWith($"{file}:{e.Line}:{e.Column}: ", StringComparison.Ordinal))
            {
                throw new Xunit.Sdk.XunitException($"unlocated error: {e.Message}");
            }
        }
        return clock.ElapsedMilliseconds < 2000;
    }
}
