using System.Buffers;
using System.Collections.ObjectModel;
using System.Diagnostics;
using System.IO.Compression;
using System.Numerics.Tensors;
using System.Reflection;
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

    // Idle bound runs for the allocation-free overload; null when the model has no single float input/output.
    private readonly BoundRunPool? _boundRuns;
    private int _disposed;

    private CompressedModel(string name, InferenceSession session, ModelSource source)
    {
        Name = name;
        _session = session;
        Source = source.Description;
        SizeInBytes = source.SizeInBytes;
        _inputNames = [.. session.InputNames];
        _inputs = [.. _inputNames.Select(n => Describe(n, session.InputMetadata[n]))];
        _outputs = [.. session.OutputNames.Select(n => Describe(n, session.OutputMetadata[n]))];
        _firstOutputName = _outputs.Length > 0 ? [_outputs[0].Name] : [];
        _firstOutputDimSources = _outputs.Length > 0 && _inputs.Length == 1 ? MapDimensions(_inputs[0], _outputs[0]) : [];
        _inputsDescription = string.Join("; ", _inputs.Select(i => i.ToString()));
        Metadata = new ReadOnlyDictionary<string, string>(
            new Dictionary<string, string>(session.ModelMetadata.CustomMetadataMap, StringComparer.Ordinal));
        Compression = CompressionInfo.FromMetadata(Metadata);
        if (HasSingleFloatInputAndOutput)
        {
            int inputRank = _inputs[0].Rank, outputRank = _outputs[0].Rank;
            _boundRuns = new BoundRunPool(() => new BoundRun(_session, _inputNames[0], _firstOutputName[0], inputRank, outputRank));
        }
    }

    /// <summary>The model's name: the file name without <c>.onnx</c> / <c>.onnx.br</c>, or the name given when loading from a stream.</summary>
    public string Name { get; }

    /// <summary>The inputs the caller must provide, in model order.</summary>
    public IReadOnlyList<ModelTensorInfo> Inputs => _inputs;

    /// <summary>The outputs the model produces, in model order.</summary>
    public IReadOnlyList<ModelTensorInfo> Outputs => _outputs;

    /// <summary>The model's <c>metadata_props</c> (for example what the Compress build recorded about the compression).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>
    /// What the Compress build recorded about this model (<c>compress.version</c>, <c>compress.source_sha256</c>,
    /// <c>compress.passes</c>, <c>compress.nodes_quantized</c>), or <see langword="null"/> when the model has none of
    /// these entries.
    /// </summary>
    public CompressionInfo? Compression { get; }

    /// <summary>Where the model came from, for logs: the full file path, <c>resource 'name' in Assembly</c>, or <c>stream 'name'</c>.</summary>
    public string Source { get; }

    /// <summary>The size of the model as stored, in bytes (for <c>.br</c> the compressed size).</summary>
    public long SizeInBytes { get; }

    /// <summary>How long loading took: reading (and decompressing) the bytes and creating the ONNX Runtime session.</summary>
    public TimeSpan LoadTime { get; private set; }

    /// <summary>Loads a model file; a path ending in <c>.br</c> is Brotli-decompressed first.</summary>
    /// <param name="path">The <c>.onnx</c> or <c>.onnx.br</c> file.</param>
    /// <param name="options">Session settings, or <see langword="null"/> for the defaults.</param>
    /// <exception cref="CompressedModelException">The file is missing, unreadable or not a valid model.</exception>
    public static CompressedModel Load(string path, CompressedModelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        long started = Stopwatch.GetTimestamp();
        string name = NameFromFileName(Path.GetFileName(path));
        string fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new CompressedModelException(name, $"Model '{name}' was not found: no file '{fullPath}'.");
        }

        var source = new ModelSource(fullPath, new FileInfo(fullPath).Length);
        string folder = Path.GetDirectoryName(fullPath)!;
        if (!IsBrotli(path))
        {
            return Open(name, options, externalDataFolder: null, source, started, so => new InferenceSession(fullPath, so));
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

        return Open(name, options, folder, source, started, so => new InferenceSession(bytes, so));
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
        return LoadFromStream(stream, name, NameFromFileName(name), $"stream '{name}'", options);
    }

    /// <summary>
    /// Loads a model embedded in an assembly as a manifest resource (for example an <c>EmbeddedResource</c> item);
    /// a resource name ending in <c>.br</c> is Brotli-decompressed first.
    /// </summary>
    /// <param name="assembly">The assembly that holds the resource.</param>
    /// <param name="resourceName">
    /// The manifest resource name, or its ending after a dot when that is unique: <c>digits-mlp.onnx</c> finds
    /// <c>MyApp.Models.digits-mlp.onnx</c>.
    /// </param>
    /// <param name="options">Session settings, or <see langword="null"/> for the defaults.</param>
    /// <returns>The model, named after the resource without the assembly-name prefix and the <c>.onnx</c>/<c>.onnx.br</c> extension.</returns>
    /// <exception cref="CompressedModelException">No (or more than one) resource has that name, or it does not hold a valid model.</exception>
    public static CompressedModel LoadFromResource(Assembly assembly, string resourceName, CompressedModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        ArgumentException.ThrowIfNullOrEmpty(resourceName);
        string assemblyName = assembly.GetName().Name ?? assembly.FullName ?? "?";
        string[] all = assembly.GetManifestResourceNames();
        string[] matches = Array.IndexOf(all, resourceName) >= 0
            ? [resourceName]
            : [.. all.Where(r => r.EndsWith("." + resourceName, StringComparison.Ordinal))];
        string name = NameFromResource(assemblyName, matches.Length == 1 ? matches[0] : resourceName);
        if (matches.Length != 1)
        {
            string problem = matches.Length == 0 ? "has no embedded resource" : "has several embedded resources matching";
            string list = all.Length == 0 ? "(none)" : string.Join(", ", all);
            throw new CompressedModelException(name,
                $"Model '{name}' was not found: assembly '{assemblyName}' {problem} '{resourceName}'. Its resources are: {list}.");
        }

        using Stream stream = assembly.GetManifestResourceStream(matches[0])!;
        return LoadFromStream(stream, matches[0], name, $"resource '{matches[0]}' in {assemblyName}", options);
    }

    /// <summary>
    /// Runs a model that has one input (float32) and returns its first output (float32); the input is read
    /// in place, not copied.
    /// </summary>
    /// <param name="input">The input elements in C order.</param>
    /// <param name="shape">The input dimensions, for example <c>[1, 64]</c>.</param>
    /// <returns>The first output with its shape.</returns>
    /// <exception cref="CompressedModelException">The model does not have one float input, or the shape or length does not fit it.</exception>
    public ModelOutput Run(ReadOnlySpan<float> input, ReadOnlySpan<long> shape) => RunSingle(input, shape, _runOptions);

    /// <summary>
    /// Runs a model that has one input (float32) and writes its first output (float32) into
    /// <paramref name="output"/>. When the output shape follows from the input shape (fixed dimensions, or
    /// symbolic ones shared with the input such as <c>batch</c>), the ONNX Runtime tensors are kept bound
    /// between calls: a repeated call with the same shapes allocates nothing on the managed heap. Inputs and
    /// outputs up to 4 KiB are copied through a native buffer (so any slice may be passed each call); larger
    /// ones are read and written in place.
    /// </summary>
    /// <param name="input">The input elements in C order.</param>
    /// <param name="inputShape">The input dimensions, for example <c>[1, 64]</c>.</param>
    /// <param name="output">Receives the output; its length must equal the output's element count.</param>
    /// <exception cref="CompressedModelException">The model does not have one float input, or the shape or length does not fit it.</exception>
    /// <exception cref="ArgumentException"><paramref name="output"/> does not have the output's element count.</exception>
    public void Run(ReadOnlySpan<float> input, ReadOnlySpan<long> inputShape, Span<float> output) =>
        RunInto(input, inputShape, output, _runOptions);

    /// <summary>
    /// Runs many samples of a model with one batchable float input (axis 0 is the batch, the other dimensions
    /// are fixed) in batches of at most <paramref name="batchSize"/>, writing each sample's first output in
    /// order. Each batch goes through the allocation-free
    /// <see cref="Run(ReadOnlySpan{float}, ReadOnlySpan{long}, Span{float})"/>.
    /// </summary>
    /// <param name="samples">The samples one after the other, each with the input's fixed dimensions (for digits-mlp, 64 floats each).</param>
    /// <param name="output">Receives the outputs one sample after the other; its length must be the sample count times the output size per sample.</param>
    /// <param name="batchSize">The most samples per run (for example 64).</param>
    /// <returns>The number of samples run.</returns>
    /// <exception cref="CompressedModelException">The model's input is not batchable this way, or <paramref name="samples"/> is not a whole number of samples.</exception>
    /// <exception cref="ArgumentException"><paramref name="output"/> does not have room for exactly one output per sample.</exception>
    public int RunBatches(ReadOnlySpan<float> samples, Span<float> output, int batchSize)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ModelTensorInfo info = RequireSingleFloatInput();
        if (info.Rank == 0 || info.Shape[0] >= 0 || info.Shape.Skip(1).Any(d => d < 0))
        {
            throw new CompressedModelException(Name,
                $"Model '{Name}' cannot be run in batches: its input {info} needs a variable first (batch) dimension and fixed other dimensions.");
        }

        Span<long> shape = stackalloc long[info.Rank];
        Span<long> outputShape = stackalloc long[_outputs[0].Rank];
        long sampleSize = 1;
        for (int i = 1; i < info.Rank; i++)
        {
            shape[i] = info.Shape[i];
            sampleSize *= info.Shape[i];
        }

        if (sampleSize == 0 || samples.Length % sampleSize != 0)
        {
            throw new CompressedModelException(Name,
                $"Model '{Name}': {samples.Length} input elements are not a whole number of samples of {sampleSize} elements ({info}).");
        }

        int count = checked((int)(samples.Length / sampleSize));
        shape[0] = 1;
        if (!TryResolveFirstOutputShape(shape, outputShape, out long outputPerSample) || outputShape[0] != 1)
        {
            throw new CompressedModelException(Name,
                $"Model '{Name}' cannot be run in batches: the size of output {_outputs[0]} per sample does not follow from the input shape.");
        }

        if (output.Length != count * outputPerSample)
        {
            throw new ArgumentException(
                $"The output buffer has {output.Length} elements, but {count} samples of model '{Name}' give {count} x {outputPerSample} = {count * outputPerSample}.",
                nameof(output));
        }

        for (int start = 0; start < count; start += batchSize)
        {
            int n = Math.Min(batchSize, count - start);
            shape[0] = n;
            RunInto(
                samples.Slice(checked((int)(start * sampleSize)), checked((int)(n * sampleSize))),
                shape,
                output.Slice(checked((int)(start * outputPerSample)), checked((int)(n * outputPerSample))),
                _runOptions);
        }

        return count;
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

    /// <summary>
    /// Runs the model on named inputs on a thread-pool thread; cancelling <paramref name="cancellationToken"/>
    /// stops ONNX Runtime between operators (<see cref="RunOptions.Terminate"/>).
    /// </summary>
    /// <remarks>
    /// ONNX Runtime's own asynchronous run needs an intra-op thread pool with worker threads (it refuses
    /// <see cref="CompressedModelOptions.IntraOpNumThreads"/> = 1) and pre-allocated outputs, so this runs the
    /// synchronous call on the .NET thread pool with a cancellable per-call <see cref="RunOptions"/>. The inputs
    /// are checked before this method returns; keep their data unchanged until the task completes.
    /// </remarks>
    /// <param name="inputs">One value for each model input (see <see cref="Inputs"/>), in any order.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>The outputs in model order.</returns>
    /// <exception cref="CompressedModelException">An input is unknown, missing, given twice, or of the wrong type or shape.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled before or during the run.</exception>
    public Task<IReadOnlyList<ModelOutput>> RunAsync(IReadOnlyList<ModelInput> inputs, CancellationToken cancellationToken = default) =>
        RunAsync(inputs, null, cancellationToken);

    /// <summary>Runs the model on named inputs on a thread-pool thread and returns the requested outputs; cancellable (see <see cref="RunAsync(IReadOnlyList{ModelInput}, CancellationToken)"/>).</summary>
    /// <param name="inputs">One value for each model input (see <see cref="Inputs"/>), in any order.</param>
    /// <param name="outputNames">The outputs wanted, or <see langword="null"/> for all of them.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>The outputs in the order requested.</returns>
    /// <exception cref="CompressedModelException">An input or output name is unknown, an input is missing or given twice, or an input has the wrong type or shape.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled before or during the run.</exception>
    public Task<IReadOnlyList<ModelOutput>> RunAsync(IReadOnlyList<ModelInput> inputs, IReadOnlyList<string>? outputNames, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ThrowIfDisposed();
        CheckInputs(inputs);
        string[] wanted = CheckOutputNames(outputNames);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<IReadOnlyList<ModelOutput>>(cancellationToken);
        }

        return Task.Run(() => Cancellable<IReadOnlyList<ModelOutput>>(runOptions => RunChecked(inputs, wanted, runOptions), cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Runs a model that has one input (float32) on a thread-pool thread and returns its first output;
    /// cancellable (see <see cref="RunAsync(IReadOnlyList{ModelInput}, CancellationToken)"/>).
    /// </summary>
    /// <param name="input">The input elements in C order; keep them unchanged until the task completes.</param>
    /// <param name="shape">The input dimensions, for example <c>[1, 64]</c>.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>The first output with its shape.</returns>
    /// <exception cref="CompressedModelException">The model does not have one float input, or the shape or length does not fit it.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled before or during the run.</exception>
    public Task<ModelOutput> RunAsync(ReadOnlyMemory<float> input, ReadOnlyMemory<long> shape, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        CheckInput(RequireSingleFloatInput(), ModelElementType.Float32, shape.Span, input.Length);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<ModelOutput>(cancellationToken);
        }

        return Task.Run(() => Cancellable(runOptions => RunSingle(input.Span, shape.Span, runOptions), cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Runs a model that has one input (float32) on a thread-pool thread and writes its first output into
    /// <paramref name="output"/> like <see cref="Run(ReadOnlySpan{float}, ReadOnlySpan{long}, Span{float})"/>;
    /// cancellable (see <see cref="RunAsync(IReadOnlyList{ModelInput}, CancellationToken)"/>).
    /// </summary>
    /// <param name="input">The input elements in C order; keep them unchanged until the task completes.</param>
    /// <param name="inputShape">The input dimensions, for example <c>[1, 64]</c>.</param>
    /// <param name="output">Receives the output; its length must equal the output's element count.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>A task that completes when <paramref name="output"/> is written.</returns>
    /// <exception cref="CompressedModelException">The model does not have one float input, or the shape or length does not fit it.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled before or during the run.</exception>
    public Task RunAsync(ReadOnlyMemory<float> input, ReadOnlyMemory<long> inputShape, Memory<float> output, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        CheckInput(RequireSingleFloatInput(), ModelElementType.Float32, inputShape.Span, input.Length);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        return Task.Run(
            () => Cancellable(
                runOptions =>
                {
                    RunInto(input.Span, inputShape.Span, output.Span, runOptions);
                    return true;
                },
                cancellationToken),
            cancellationToken);
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
        return RunChecked(inputs, CheckOutputNames(outputNames), _runOptions);
    }

    /// <summary>Releases the ONNX Runtime session and its native memory. Safe to call more than once.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _boundRuns?.Dispose();
        _session.Dispose();
        _runOptions.Dispose();
    }

    /// <summary>Describes the model like <c>digits-mlp (input: Float32[batch,64] -> logits: Float32[batch,10])</c>.</summary>
    public override string ToString() =>
        $"{Name} ({_inputsDescription} -> {string.Join("; ", _outputs.Select(o => o.ToString()))})";

    private static CompressedModel LoadFromStream(Stream stream, string resourceOrFileName, string modelName, string description, CompressedModelOptions? options)
    {
        long started = Stopwatch.GetTimestamp();
        byte[] bytes;
        long storedSize;
        try
        {
            if (IsBrotli(resourceOrFileName))
            {
                var counting = new CountingStream(stream);
                bytes = Decompress(counting);
                storedSize = counting.BytesRead;
            }
            else
            {
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                bytes = copy.ToArray();
                storedSize = bytes.Length;
            }
        }
        catch (Exception e) when (e is IOException or NotSupportedException or InvalidDataException)
        {
            throw new CompressedModelException(modelName, $"Model '{modelName}' could not be read from the {description}: {e.Message}", e);
        }

        return Open(modelName, options, externalDataFolder: null, new ModelSource(description, storedSize), started, so => new InferenceSession(bytes, so));
    }

    private static CompressedModel Open(
        string name, CompressedModelOptions? options, string? externalDataFolder, ModelSource source, long started, Func<SessionOptions, InferenceSession> create)
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
            var model = new CompressedModel(name, session, source);
            model.LoadTime = Stopwatch.GetElapsedTime(started);
            return model;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private unsafe ModelOutput RunSingle(ReadOnlySpan<float> input, ReadOnlySpan<long> shape, RunOptions runOptions)
    {
        ThrowIfDisposed();
        ModelTensorInfo info = RequireSingleFloatInput();
        CheckInput(info, ModelElementType.Float32, shape, input.Length);
        Span<long> outputShape = stackalloc long[_outputs[0].Rank];
        if (TryResolveFirstOutputShape(shape, outputShape, out long outputCount))
        {
            // The output size is known: let ONNX Runtime write straight into the array the result keeps.
            var data = new float[outputCount];
            RunInto(input, shape, data, runOptions);
            return new ModelOutput(_firstOutputName[0], ModelElementType.Float32, outputShape.ToArray(), data);
        }

        long[] shapeArray = shape.ToArray();
        fixed (float* data = input)
        {
            using OrtValue value = OrtValue.CreateTensorValueWithData(
                OrtMemoryInfo.DefaultInstance, TensorElementType.Float, shapeArray, (nint)data, input.Length * (long)sizeof(float));
            try
            {
                using IDisposableReadOnlyCollection<OrtValue> results = _session.Run(runOptions, _inputNames, [value], _firstOutputName);
                return ModelOutput.FromOrtValue(_firstOutputName[0], results[0]);
            }
            catch (OnnxRuntimeException e)
            {
                throw RunFailed(e);
            }
        }
    }

    private unsafe void RunInto(ReadOnlySpan<float> input, ReadOnlySpan<long> inputShape, Span<float> output, RunOptions runOptions)
    {
        ThrowIfDisposed();
        ModelTensorInfo info = RequireSingleFloatInput();
        CheckInput(info, ModelElementType.Float32, inputShape, input.Length);
        BoundRun run = _boundRuns!.Rent();
        try
        {
            inputShape.CopyTo(run.InputShape);
            if (!TryResolveFirstOutputShape(inputShape, run.OutputShape, out long outputCount))
            {
                RunWithDataDependentOutput(input, run.InputShape, output, runOptions);
                return;
            }

            if (outputCount != output.Length)
            {
                throw new ArgumentException(WrongOutputLength(output.Length, outputCount, run.OutputShape), nameof(output));
            }

            fixed (float* inData = input)
            fixed (float* outData = output)
            {
                run.Run(_session, runOptions, inData, input.Length, outData, output.Length);
            }
        }
        catch (OnnxRuntimeException e)
        {
            throw RunFailed(e);
        }
        finally
        {
            _boundRuns.Return(run);
        }
    }

    // The output shape depends on the data: let ONNX Runtime allocate, then copy.
    private unsafe void RunWithDataDependentOutput(ReadOnlySpan<float> input, long[] inputShape, Span<float> output, RunOptions runOptions)
    {
        fixed (float* inData = input)
        {
            using OrtValue inValue = OrtValue.CreateTensorValueWithData(
                OrtMemoryInfo.DefaultInstance, TensorElementType.Float, inputShape, (nint)inData, input.Length * (long)sizeof(float));
            using IDisposableReadOnlyCollection<OrtValue> results = _session.Run(runOptions, _inputNames, [inValue], _firstOutputName);
            ReadOnlySpan<float> result = results[0].GetTensorDataAsSpan<float>();
            if (result.Length != output.Length)
            {
                throw new ArgumentException(WrongOutputLength(output.Length, result.Length, results[0].GetTensorTypeAndShape().Shape), nameof(output));
            }

            result.CopyTo(output);
        }
    }

    private ModelOutput[] RunChecked(IReadOnlyList<ModelInput> inputs, string[] wanted, RunOptions runOptions)
    {
        ThrowIfDisposed();
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

            using IDisposableReadOnlyCollection<OrtValue> results = _session.Run(runOptions, names, values, wanted);
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

    private string[] CheckOutputNames(IReadOnlyList<string>? outputNames)
    {
        string[] wanted = outputNames is null ? [.. _outputs.Select(o => o.Name)] : [.. outputNames];
        foreach (string name in wanted)
        {
            if (!_outputs.Any(o => o.Name == name))
            {
                throw new CompressedModelException(Name,
                    $"Model '{Name}' has no output '{name}'. Its outputs are: {string.Join("; ", _outputs.Select(o => o.ToString()))}.");
            }
        }

        return wanted;
    }

    // Runs with a per-call RunOptions whose Terminate flag the token sets; ONNX Runtime checks it between operators.
    private T Cancellable<T>(Func<RunOptions, T> run, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var runOptions = new RunOptions();
        using (cancellationToken.Register(static o => ((RunOptions)o!).Terminate = true, runOptions))
        {
            try
            {
                return run(runOptions);
            }
            catch (CompressedModelException e) when (cancellationToken.IsCancellationRequested && e.InnerException is OnnxRuntimeException)
            {
                throw new OperationCanceledException($"The run of model '{Name}' was cancelled.", e, cancellationToken);
            }
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

    private static string NameFromResource(string assemblyName, string resourceName)
    {
        // Resource names are "<default namespace>.<folders>.<file>"; drop the usual assembly-name prefix.
        string name = resourceName.StartsWith(assemblyName + ".", StringComparison.Ordinal) && resourceName.Length > assemblyName.Length + 1
            ? resourceName[(assemblyName.Length + 1)..]
            : resourceName;
        return NameFromFileName(name);
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

    private bool HasSingleFloatInputAndOutput =>
        _inputs.Length == 1 && _inputs[0].ElementType == ModelElementType.Float32
        && _outputs.Length > 0 && _outputs[0].ElementType == ModelElementType.Float32;

    private bool TryResolveFirstOutputShape(ReadOnlySpan<long> inputShape, Span<long> outputShape, out long count)
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
        if (!HasSingleFloatInputAndOutput)
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
