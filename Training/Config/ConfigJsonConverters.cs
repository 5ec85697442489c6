using System.Text.Json;
using System.Text.Json.Serialization;
using Xmc.Engine;
using Xmc.Models.Bert;
using Xmc.Models.Xmc;
using Xmc.Training.Metrics;
using Xmc.Training.Inputs;
using Xmc.Training.Optim;

namespace Xmc.Training.Config;

/// <summary>Reads and writes a config enum by its spelling in <paramref name="names"/>; any other text is a
/// <see cref="JsonException"/> whose message lists the valid spellings (the loader adds the field and position).</summary>
internal abstract class SpelledEnumJson<T>(ConfigNames<T> names) : JsonConverter<T> where T : struct, Enum
{
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"expected a string, one of {names.Valid}");
        }
        var text = reader.GetString();
        return names.TryParse(text, out var value) ? value : throw new JsonException($"'{text}' is not one of {names.Valid}");
    }

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(names.Name(value));
}

internal sealed class EncoderKindJson() : SpelledEnumJson<EncoderKind>(ModelConfigNames.Encoder);

internal sealed class HeadKindJson() : SpelledEnumJson<HeadKind>(ModelConfigNames.Head);

internal sealed class HeadDTypeJson() : SpelledEnumJson<DType>(ModelConfigNames.HeadDType);

internal sealed class HeadUpdateJson() : SpelledEnumJson<HeadUpdateKind>(ModelConfigNames.HeadUpdate);

internal sealed class HeadRoundingJson() : SpelledEnumJson<Engine.Backends.RoundingMode>(ModelConfigNames.HeadRounding);

internal sealed class BertPresetJson() : SpelledEnumJson<BertPreset>(ModelConfigNames.Bert);

internal sealed class BertMemoryJson() : SpelledEnumJson<BertMemoryMode>(ModelConfigNames.BertMemory);

internal sealed class PoolingJson() : SpelledEnumJson<SequencePooling>(ModelConfigNames.Pooling);

internal sealed class OptimizerKindJson() : SpelledEnumJson<OptimizerKind>(TrainConfigNames.Optimizer);

internal sealed class DecayShapeJson() : SpelledEnumJson<DecayShape>(TrainConfigNames.Schedule);

internal sealed class DstAlgorithmJson() : SpelledEnumJson<DstAlgorithmKind>(TrainConfigNames.DstAlgorithm);

internal sealed class GseSamplingJson() : SpelledEnumJson<GseSampling>(TrainConfigNames.Sampling);

internal sealed class FeatureWeightingJson() : SpelledEnumJson<FeatureWeighting>(TrainConfigNames.Weighting);

/// <summary>A device as <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
internal sealed class DeviceJson : JsonConverter<Device>
{
    public override Device Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        try
        {
            return Device.Parse(reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw new FormatException("expected a string: cpu, cuda or cuda:N"));
        }
        catch (FormatException e)
        {
            throw new JsonException(e.Message);
        }
    }

    public override void Write(Utf8JsonWriter writer, Device value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}

/// <summary>A size such as <c>12GiB</c> (see <see cref="ByteSize.Parse"/>), written back as it was given.</summary>
internal sealed class ByteSizeJson : JsonConverter<ByteSize>
{
    public override ByteSize Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        try
        {
            return reader.TokenType switch
            {
                JsonTokenType.String => ByteSize.Parse(reader.GetString()!),
                JsonTokenType.Number => ByteSize.Parse(System.Text.Encoding.UTF8.GetString(reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan)),
                _ => throw new FormatException("expected a size such as 12GiB"),
            };
        }
        catch (FormatException e)
        {
            throw new JsonException(e.Message);
        }
    }

    public override void Write(Utf8JsonWriter writer, ByteSize value, JsonSerializerOptions options) => writer.WriteStringValue(value.Text);
}

/// <summary>A selection metric as the metric logs spell it (<c>P@1</c>, <c>PSP@5</c>, …).</summary>
internal sealed class SelectionMetricJson : JsonConverter<SelectionMetric>
{
    public override SelectionMetric Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        try
        {
            return SelectionMetric.Parse(reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw new FormatException($"expected a string, one of {SelectionMetric.Valid}"));
        }
        catch (FormatException e)
        {
            throw new JsonException(e.Message);
        }
    }

    public override void Write(Utf8JsonWriter writer, SelectionMetric value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
