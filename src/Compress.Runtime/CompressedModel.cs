using System.Buffers;
using System.Collections.ObjectModel;
using System.IO.Compression;
using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace Compress.Runtime;

/// <summary>
/// An ONNX model (typically int8-quantized or pruned by Compress) loaded into an ONNX Runtime CPU session.
/// </summary>
/// <remarks>
/// <para><b>Thread safety:</b> every <c>Run</c> overload may be called from many threads at once on one
/// instance; ONNX Runtime sessions are thread-safe for inference, and the buffers this class reuses between
/// calls are handed to one thread at a time. Results do not depend on concurrency. Do not call
/// <see cref="Dispose"/> while a run is in progress; after it every member throws
/// <see cref="ObjectDisposedException"/>.</para>
/// <para>Files ending in <c>.br</c> are decompressed with Brotli before loading.</para>
/// </remarks>
public sealed class CompressedModel : IDisposable
{
    private const string BrotliExtension = ".br";
    private const string OnnxExtension = ".onnx";

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly ModelTensorInfo[] _inputs;
    private readonly ModelTensorInfo[] _outputs;
    private readonly string[] _inputNames;
    private readonly string[] _firstOutputName;
    private readonly string _inputsDescription;

    // For each dimension of the first output: its fixed size (>= 0), the input dimension that has the same
    // symbolic name (encoded as -2 - index), or Unresolvable.
    private readonly long[] _firstOutputDimSources;
    private const long Unresolvable = -1;

    // One spare scratch: a thread takes it with Interlocked.Exchange, so no two threads share it.
    private RunScratch? _spareScratch;
    private int _disposed;

    private CompressedModel(string name, InferenceSession session)
    {
        Name = name;
        _session = session;
        _inputNames = [.. session.InputNames];
        _inputs = [.. _inputNames.Select(n => Describe(n, session.InputMetadata[n]))];
        _outputs = [.. session.OutputNames.Select(n => Describe(n, session.OutputMetadata[n]))];
        _firstOutputName = _outputs.Length > 0 ? [_outputs[0].Name] : [];
        _firstOutputDimSources = _outputs.Length > 0 && _inputs.Length == 1 ? MapDimensions(_inputs[0], _outputs[0]) : [];
        _inputsDescription = string.Join("; ", _inputs.Select(i => i.ToString()));
        Metadata = new ReadOnlyDictionary<string, string>(
            new Dictionary<string, string>(session.ModelMetadata.CustomMetadataMap, StringComparer.Ordinal));
    }

    /// <summary>The model's name: the file name without <c>.onnx</c> / <c>.onnx.br</c>, or the name given when loading from a stream.</summary>
    public string Name { get; }

    /// <summary>The inputs the caller must provide, in model order.</summary>
    public IReadOnlyList<ModelTensorInfo> Inputs => _inputs;

    /// <summary>The outputs the model produces, in model order.</summary>
    public IReadOnlyList<ModelTensorInfo> Outputs => _outputs;

    /// <summary>The model's <c>metadata_props</c> (for example what the Compress build recorded about the compression).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Loads a model file; a path ending in <c>.br</c> is Brotli-decompressed first.</summary>
    /// <param name="path">The <c>.onnx</c> or <c>.onnx.br</c> file.</param>
    /// <param name="options">Session settings, or <see langword="null"/> for the defaults.</param>
    /// <exception cref="CompressedModelException">The file is missing, unreadable or not a valid model.</exception>
    public static CompressedModel Load(string path, CompressedModelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string name = NameFromFileName(Path.GetFileName(path));
        string fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new CompressedModelException(name, $"Model '{name}' was not found: no file '{fullPath}'.");
        }

        string folder = Path.GetDirectoryName(fullPath)!;
        if (!IsBrotli(path))
        {
            return Open(name, options, externalDataFolder: null, so => new InferenceSession(fullPath, so));
        }

        byte[] bytes;
        try
        {
            using FileStream file = File.OpenRead(fullPath);
            bytes = Decompress(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw new CompressedModelException(name, $"Model '{name}' could not be read from '{fullPath}': {e.Message}", e);
        }

        return Open(name, options, folder, so => new InferenceSession(bytes, so));
    }

    /// <summary>
    /// Loads a model from a stream (read to its end; the caller keeps ownership). When <paramref name="name"/>
    /// ends in <c>.br</c> the content is Brotli-decompressed first.
    /// </summary>
    /// <param name="stream">The model bytes.</param>
    /// <param name="name">A name for the model (for example its file name), used in <see cref="Name"/> and messages.</param>
    /// <param name="options">Session settings, or <see langword="null"/> for the defaults.</param>
    /// <exception cref="CompressedModelException">The stream cannot be read or does not hold a valid model.</exception>
    public static CompressedModel Load(Stream stream, string name, CompressedModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentException.ThrowIfNullOrEmpty(name);
        string modelName = NameFromFileName(name);
        byte[] bytes;
        try
        {
            if (IsBrotli(name))
            {
                bytes = Decompress(stream);
            }
            else
            {
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                bytes = copy.ToArray();
            }
        }
        catch (Exception e) when (e is IOException or NotSupportedException or InvalidDataException)
        {
            throw new CompressedModelException(modelName, $"Model '{modelName}' could not be read from the stream: {e.Message}", e);
        }

        return Open(modelName, options, externalDataFolder: null, so => new InferenceSession(bytes, so));
    }

    /// <summary>
    /// Runs a model that has one input (float32) and returns its first output (float32); the input is read
    /// in place, not copied.
    /// </summary>
    /// <param name="input">The input elements in C order.</param>
    /// <param name="shape">The input dimensions, for example <c>[1, 64]</c>.</param>
    /// <returns>The first output with its shape.</returns>
    /// <exception cref="CompressedModelException">The model does not have one float input, or the shape or length does not fit it.</exception>
    public unsafe ModelOutput Run(ReadOnlySpan<float> input, ReadOnlySpan<long> shape)
    {
        ThrowIfDisposed();
        ModelTensorInfo info = RequireSingleFloatInput();
        CheckInput(info, ModelElementType.Float32, shape, input.Length);
        long[] shapeArray = shape.ToArray();
        fixed (float* data = input)
        {
            using OrtValue value = OrtValue.CreateTensorValueWithData(
                OrtMemoryInfo.DefaultInstance, TensorElementType.Float, shapeArray, (nint)data, input.Length * (long)sizeof(float));
            try
            {
                using IDisposableReadOnlyCollection<OrtValue> results = _session.Run(_runOptions, _inputNames, [value], _firstOutputName);
                return ModelOutput.FromOrtValue(_firstOutputName[0], results[0]);
            }
            catch (OnnxRuntimeException e)
            {
                throw RunFailed(e);
            }
        }
    }

    /// <summary>
    /// Runs a model that has one input (float32) and writes its first output (float32) into
    /// <paramref name="output"/>. Neither buffer is copied; when the output shape follows from the input
    /// shape (fixed dimensions, or symbolic ones shared with the input such as <c>batch</c>), ONNX Runtime
    /// writes straight into <paramref name="output"/> and the call allocates only ONNX Runtime's small
    /// per-call wrappers.
    /// </summary>
    /// <param name="input">The input elements in C order.</param>
    /// <param name="inputShape">The input dimensions, for example <c>[1, 64]</c>.</param>
    /// <param name="output">Receives the output; its length must equal the output's element count.</param>
    /// <exception cref="CompressedModelException">The model does not have one float input, or the shape or length does not fit it.</exception>
    /// <exception cref="ArgumentException"><paramref name="output"/> does not have the output's element count.</exception>
    public unsafe void Run(ReadOnlySpan<float> input, ReadOnlySpan<long> inputShape, Span<float> output)
    {
        ThrowIfDisposed();
        ModelTensorInfo info = RequireSingleFloatInput();
        CheckInput(info, ModelElementType.Float32, inputShape, input.Length);
        RunScratch scratch = Interlocked.Exchange(ref _spareScratch, null) ?? new RunScratch(info.Rank, _outputs[0].Rank);
        try
        {
            inputShape.CopyTo(scratch.InputShape);
            bool outputShapeKnown = TryResolveFirstOutputShape(inputShape, scratch.OutputShape, out long outputCount);
            if (outputShapeKnown && outputCount != output.Length)
            {
                throw new ArgumentException(WrongOutputLength(output.Length, outputCount, scratch.OutputShape), nameof(output));
            }

            fixed (float* inData = input)
            fixed (float* outData = output)
            {
                using OrtValue inValue = OrtValue.CreateTensorValueWithData(
                    OrtMemoryInfo.DefaultInstance, TensorElementType.Float, scratch.InputShape, (nint)inData, input.Length * (long)sizeof(float));
                scratch.Inputs[0] = inValue;
                if (outputShapeKnown)
                {
                    using OrtValue outValue = OrtValue.CreateTensorValueWithData(
                        OrtMemoryInfo.DefaultInstance, TensorElementType.Float, scratch.OutputShape, (nint)outData, output.Length * (long)sizeof(float));
                    scratch.Outputs[0] = outValue;
                    _session.Run(_runOptions, _inputNames, scratch.Inputs, _firstOutputName, scratch.Outputs);
                }
                else
                {
                    // The output shape depends on the data: let ONNX Runtime allocate, then copy.
                    using IDisposableReadOnlyCollection<OrtValue> results = _session.Run(_runOptions, _inputNames, scratch.Inputs, _firstOutputName);
                    ReadOnlySpan<float> result = results[0].GetTensorDataAsSpan<float>();
                    if (result.Length != output.Length)
                    {
                        throw new ArgumentException(WrongOutputLength(output.Length, result.Length, results[0].GetTensorTypeAndShape().Shape), nameof(output));
                    }

                    result.CopyTo(output);
                }
            }
        }
        catch (OnnxRuntimeException e)
        {
            throw RunFailed(e);
        }
        finally
        {
            scratch.Clear();
            Volatile.Write(ref _spareScratch, scratch);
        }
    }

    /// <summary>Runs a model that has one input (float32) on a tensor and returns its first output (float32) as a new tensor.</summary>
    /// <param name="input">The input; its lengths are the input shape.</param>
    /// <returns>The first output.</returns>
    /// <exception cref="CompressedModelException">The model does not have one float input, or the shape does not fit it.</exception>
    public unsafe Tensor<float> Run(Tensor<float> input)
    {
        ArgumentNullException.ThrowIfNull(input);
        long[] shape = ModelInput.ToLongs(input.Lengths);
        ModelOutput result;
        if (input.IsDense)
        {
            // A dense tensor's elements are contiguous from its first element: read them in place.
            fixed (float* data = &input.GetPinnableReference())
            {
                result = Run(new ReadOnlySpan<float>(data, checked((int)input.FlattenedLength)), shape);
            }
        }
        else
        {
            var data = new float[input.FlattenedLength];
            input.FlattenTo(data);
            result = Run(data, shape);
        }

        return result.WrapAsTensor<float>();
    }

    /// <summary>Runs the model on named inputs of any supported type and returns every output.</summary>
    /// <param name="inputs">One value for each model input (see <see cref="Inputs"/>), in any order.</param>
    /// <returns>The outputs in model order.</returns>
    /// <exception cref="CompressedModelException">An input is unknown, missing, given twice, or of the wrong type or shape.</exception>
    public IReadOnlyList<ModelOutput> Run(IReadOnlyList<ModelInput> inputs) => Run(inputs, null);

    /// <summary>Runs the model on named inputs and returns the requested outputs (ONNX Runtime computes only what they need).</summary>
    /// <param name="inputs">One value for each model input (see <see cref="Inputs"/>), in any order.</param>
    /// <param name="outputNames">The outputs wanted, or <see langword="null"/> for all of them.</param>
    /// <returns>The outputs in the order requested.</returns>
    /// <exception cref="CompressedModelException">An input or output name is unknown, an input is missing or given twice, or an input has the wrong type or shape.</exception>
    public IReadOnlyList<ModelOutput> Run(IReadOnlyList<ModelInput> inputs, IReadOnlyList<string>? outputNames)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ThrowIfDisposed();
        CheckInputs(inputs);
        string[] wanted = outputNames is null ? [.. _outputs.Select(o => o.Name)] : [.. outputNames];
        foreach (string name in wanted)
        {
            if (!_outputs.Any(o => o.Name == name))
            {
                throw new CompressedModelException(Name,
                    $"Model '{Name}' has no output '{name}'. Its outputs are: {string.Join("; ", _outputs.Select(o => o.ToString()))}.");
            }
        }

        var values = new OrtValue[inputs.Count];
        var pins = new MemoryHandle[inputs.Count];
        var names = new string[inputs.Count];
        int created = 0;
        try
        {
            for (; created < inputs.Count; created++)
            {
                values[created] = inputs[created].CreateOrtValue(out pins[created]);
                names[created] = inputs[created].Name;
            }

            using IDisposableReadOnlyCollection<OrtValue> results = _session.Run(_runOptions, names, values, wanted);
            var outputs = new ModelOutput[wanted.Length];
            for (int i = 0; i < wanted.Length; i++)
            {
                outputs[i] = ModelOutput.FromOrtValue(wanted[i], results[i]);
            }

            return outputs;
        }
        catch (OnnxRuntimeException e)
        {
            throw RunFailed(e);
        }
        catch (NotSupportedException e)
        {
            throw new CompressedModelException(Name, $"Model '{Name}': {e.Message}", e);
        }
        finally
        {
            for (int i = 0; i < created; i++)
            {
                values[i].Dispose();
                pins[i].Dispose();
            }
        }
    }

    /// <summary>Releases the ONNX Runtime session and its native memory. Safe to call more than once.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _session.Dispose();
        _runOptions.Dispose();
        _spareScratch = null;
    }

    /// <summary>Describes the model like <c>digits-mlp (input: Float32[batch,64] -> logits: Float32[batch,10])</c>.</summary>
    public override string ToString() =>
        $"{Name} ({_inputsDescription} -> {string.Join("; ", _outputs.Select(o => o.ToString()))})";

    private static CompressedModel Open(string name, CompressedModelOptions? options, string? externalDataFolder, Func<SessionOptions, InferenceSession> create)
    {
        options ??= new CompressedModelOptions();
        using SessionOptions sessionOptions = options.CreateSessionOptions(externalDataFolder);
        InferenceSession session;
        try
        {
            session = create(sessionOptions);
        }
        catch (OnnxRuntimeException e)
        {
            throw new CompressedModelException(name, $"Model '{name}' could not be loaded: {e.Message}", e);
        }

        try
        {
            return new CompressedModel(name, session);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static byte[] Decompress(Stream stream)
    {
        using var brotli = new BrotliStream(stream, CompressionMode.Decompress, leaveOpen: true);
        using var result = new MemoryStream();
        try
        {
            brotli.CopyTo(result);
        }
        catch (InvalidOperationException e)
        {
            // BrotliStream reports corrupt input as InvalidOperationException ("Decoder ran into invalid data").
            throw new InvalidDataException($"The content is not valid Brotli data: {e.Message}", e);
        }

        return result.ToArray();
    }

    private static bool IsBrotli(string name) => name.EndsWith(BrotliExtension, StringComparison.OrdinalIgnoreCase);

    private static string NameFromFileName(string fileName)
    {
        string name = fileName;
        if (IsBrotli(name))
        {
            name = name[..^BrotliExtension.Length];
        }

        if (name.EndsWith(OnnxExtension, StringComparison.OrdinalIgnoreCase))
        {
            name = name[..^OnnxExtension.Length];
        }

        return name.Length > 0 ? name : fileName;
    }

    private static ModelTensorInfo Describe(string name, NodeMetadata metadata)
    {
        if (!metadata.IsTensor)
        {
            return new ModelTensorInfo(name, ModelElementType.Other, [], []);
        }

        long[] shape = [.. metadata.Dimensions.Select(d => (long)d)];
        string[] symbols = [.. metadata.SymbolicDimensions.Select(s => s ?? string.Empty)];
        if (symbols.Length != shape.Length)
        {
            symbols = [.. shape.Select(_ => string.Empty)];
        }

        return new ModelTensorInfo(name, ElementTypes.FromOrt(metadata.ElementDataType), shape, symbols);
    }

    private static long[] MapDimensions(ModelTensorInfo input, ModelTensorInfo output)
    {
        var sources = new long[output.Rank];
        for (int i = 0; i < output.Rank; i++)
        {
            sources[i] = Unresolvable;
            if (output.Shape[i] >= 0)
            {
                sources[i] = output.Shape[i];
                continue;
            }

            string symbol = output.SymbolicDimensions[i];
            for (int j = 0; j < input.Rank && symbol.Length > 0; j++)
            {
                if (input.SymbolicDimensions[j] == symbol)
                {
                    sources[i] = -2 - j;
                    break;
                }
            }
        }

        return sources;
    }

    private bool TryResolveFirstOutputShape(ReadOnlySpan<long> inputShape, long[] outputShape, out long count)
    {
        count = 1;
        for (int i = 0; i < outputShape.Length; i++)
        {
            long source = _firstOutputDimSources[i];
            if (source == Unresolvable)
            {
                return false;
            }

            outputShape[i] = source >= 0 ? source : inputShape[(int)(-2 - source)];
            count *= outputShape[i];
        }

        return true;
    }

    private ModelTensorInfo RequireSingleFloatInput()
    {
        if (_inputs.Length != 1 || _inputs[0].ElementType != ModelElementType.Float32
            || _outputs.Length == 0 || _outputs[0].ElementType != ModelElementType.Float32)
        {
            throw new CompressedModelException(Name,
                $"Model '{Name}' does not have one float input and a float output ({this}); use Run(IReadOnlyList<ModelInput>).");
        }

        return _inputs[0];
    }

    private void CheckInputs(IReadOnlyList<ModelInput> inputs)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (ModelInput input in inputs)
        {
            ArgumentNullException.ThrowIfNull(input, nameof(inputs));
            ModelTensorInfo? info = Array.Find(_inputs, i => i.Name == input.Name);
            if (info is null)
            {
                throw new CompressedModelException(Name,
                    $"Model '{Name}' has no input '{input.Name}'. Its inputs are: {_inputsDescription}.");
            }

            if (!seen.Add(input.Name))
            {
                throw new CompressedModelException(Name, $"Input '{input.Name}' of model '{Name}' is given more than once.");
            }

            CheckInput(info, input.ElementType, input.ShapeArray, input.ElementCount);
        }

        string[] missing = [.. _inputs.Where(i => !seen.Contains(i.Name)).Select(i => i.ToString())];
        if (missing.Length > 0)
        {
            throw new CompressedModelException(Name,
                $"Model '{Name}' needs input(s) {string.Join("; ", missing)} too. Its inputs are: {_inputsDescription}.");
        }
    }

    // Allocates nothing unless it throws (the allocation-free Run relies on that).
    private void CheckInput(ModelTensorInfo info, ModelElementType type, ReadOnlySpan<long> shape, long length)
    {
        if (type != info.ElementType)
        {
            throw new CompressedModelException(Name,
                $"Input '{info.Name}' of model '{Name}' takes {info.ElementType} elements, not {type}. Its inputs are: {_inputsDescription}.");
        }

        bool fits = shape.Length == info.Rank;
        for (int i = 0; fits && i < shape.Length; i++)
        {
            fits = shape[i] >= 0 && (info.Shape[i] < 0 || info.Shape[i] == shape[i]);
        }

        if (!fits)
        {
            throw new CompressedModelException(Name,
                $"Input '{info.Name}' of model '{Name}' has shape {Shapes.Format(shape)}, which does not fit {info}. Its inputs are: {_inputsDescription}.");
        }

        long count = Shapes.ElementCount(shape);
        if (count != length)
        {
            throw new CompressedModelException(Name,
                $"Input '{info.Name}' of model '{Name}' has {length} elements, but shape {Shapes.Format(shape)} needs {count}.");
        }
    }

    private string WrongOutputLength(int given, long needed, ReadOnlySpan<long> shape) =>
        $"The output buffer has {given} elements, but output '{_outputs[0].Name}' of model '{Name}' has shape {Shapes.Format(shape)} = {needed} elements.";

    private CompressedModelException RunFailed(OnnxRuntimeException e) =>
        new(Name, $"Model '{Name}' failed to run: {e.Message} Its inputs are: {_inputsDescription}.", e);

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}
