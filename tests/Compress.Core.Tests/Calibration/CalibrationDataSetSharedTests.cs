using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Tests.Onnx;
using Compress.Core.Tests.Passes;
using Compress.Runtime.Data;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Tests.Calibration;

/// <summary>The shared models' calibration data maps onto their inputs, batches have the right shapes and the models run on them.</summary>
[TestFixture]
public sealed class CalibrationDataSetSharedTests
{
    private static readonly string[] SileroInputs = ["input", "sr", "h", "c"];
    private static readonly int[] FirstFortyInBatchesOf16 = [16, 16, 8];

    [TestCase("digits-mlp", "digits_calib_x.npy", 256, new long[] { 16, 64 })]
    [TestCase("fashion-cnn", "fashion_calib_x.npy", 256, new long[] { 16, 1, 28, 28 })]
    [TestCase("ocr-cls", "cls_calib_x.npy", 64, new long[] { 16, 3, 48, 192 })]
    [TestCase("ocr-det", "det_calib_x.npy", 1, new long[] { 1, 3, 640, 640 })]
    public void SingleInputNpyFeedsTheModel(string modelName, string dataFile, int samples, long[] firstBatchShape)
    {
        ModelProto model = SharedMaterial.LoadModel(modelName);
        string path = SharedMaterial.DataPath(dataFile);
        CalibrationDataSet data = CalibrationDataSet.Open([path], model);
        Assert.That(data.SampleCount, Is.EqualTo(samples));

        NpyArray file = NpyArray.Load(path);
        var batchSizes = new List<int>();
        bool first = true;
        foreach (CalibrationBatch batch in data.ReadBatches(16))
        {
            using (batch)
            {
                batchSizes.Add(batch.SampleCount);
                if (!first)
                {
                    continue;
                }

                first = false;
                OrtValue value = batch.Values[0];
                Assert.That(value.GetTensorTypeAndShape().Shape, Is.EqualTo(firstBatchShape));
                // Samples run along axis 0 in the file and in the batch: the bytes are the file's first rows.
                Assert.That(value.GetTensorDataAsSpan<float>().SequenceEqual(file.AsSpan<float>()[..(int)value.GetTensorTypeAndShape().ElementCount]), Is.True);
                long[] outputShape = RunFirstOutputShape(model, batch);
                Assert.That(outputShape[0], Is.EqualTo(batch.SampleCount), "the model ran on the batch and kept its batch size");
            }
        }

        Assert.That(batchSizes.Sum(), Is.EqualTo(samples));
        Assert.That(batchSizes.Take(batchSizes.Count - 1), Has.All.EqualTo(16));
    }

    [Test]
    public void SileroNpzPutsTheBatchAxisOfStateInTheMiddleAndSharesTheScalarRate()
    {
        ModelProto model = SharedMaterial.LoadModel("silero-vad-v4");
        string path = SharedMaterial.DataPath("vad_calib.npz");
        CalibrationDataSet data = CalibrationDataSet.Open([path], model, maxSamples: 40);
        Assert.That(data.InputNames, Is.EqualTo(SileroInputs));
        Assert.That((data.TotalSampleCount, data.SampleCount), Is.EqualTo((256, 40)));

        NpzArchive archive = NpzArchive.Load(path);
        ReadOnlySpan<float> fileH = archive["h"].AsSpan<float>();
        var sizes = new List<int>();
        foreach (CalibrationBatch batch in data.ReadBatches(16))
        {
            using (batch)
            {
                int b = batch.SampleCount;
                sizes.Add(b);
                Assert.That(batch["input"].GetTensorTypeAndShape().Shape, Is.EqualTo(new long[] { b, 1536 }));
                Assert.That(batch["sr"].GetTensorTypeAndShape().Shape, Is.Empty);
                Assert.That(batch["sr"].GetTensorDataAsSpan<long>()[0], Is.EqualTo(16000));
                Assert.That(batch["h"].GetTensorTypeAndShape().Shape, Is.EqualTo(new long[] { 2, b, 64 }));
                Assert.That(batch["c"].GetTensorTypeAndShape().Shape, Is.EqualTo(new long[] { 2, b, 64 }));

                // h[layer, i, k] of the batch is row FirstSample + i of the file's [N, 2, 64] array.
                ReadOnlySpan<float> h = batch["h"].GetTensorDataAsSpan<float>();
                int mismatches = 0;
                for (int layer = 0; layer < 2; layer++)
                {
                    for (int i = 0; i < b; i++)
                    {
                        for (int k = 0; k < 64; k++)
                        {
                            float expected = fileH[((batch.FirstSample + i) * 128) + (layer * 64) + k];
                            mismatches += h[(((layer * b) + i) * 64) + k] == expected ? 0 : 1;
                        }
                    }
                }

                Assert.That(mismatches, Is.Zero);
                long[] outputShape = RunFirstOutputShape(model, batch);
                Assert.That(outputShape, Is.EqualTo(new long[] { b, 1 }));
            }
        }

        Assert.That(sizes, Is.EqualTo(FirstFortyInBatchesOf16), "the sample cap keeps the first 40 samples");
    }

    [Test]
    public void FolderOfTensorProtoFilesFeedsInputsInOrder()
    {
        using var folder = new TempFolder();
        ModelProto model = SharedMaterial.LoadModel("silero-vad-v4");
        NpzArchive archive = NpzArchive.Load(SharedMaterial.DataPath("vad_calib.npz"));
        string[] order = SileroInputs;
        for (int i = 0; i < order.Length; i++)
        {
            NpyArray array = archive[order[i]];
            TensorProto tensor = array.ElementType == NpyElementType.Int64
                ? TensorData.CreateInt64(string.Empty, [.. array.Shape], array.AsSpan<long>())
                : TensorData.CreateFloat(string.Empty, [.. array.Shape], array.AsSpan<float>());
            File.WriteAllBytes(folder.File($"input_{i}.pb"), tensor.ToByteArray());
        }

        CalibrationDataSet fromPb = CalibrationDataSet.Open([folder.Path], model, maxSamples: 20);
        CalibrationDataSet fromNpz = CalibrationDataSet.Open([SharedMaterial.DataPath("vad_calib.npz")], model, maxSamples: 20);
        Assert.That(fromPb.InputNames, Is.EqualTo(fromNpz.InputNames));
        using CalibrationBatch a = fromPb.ReadBatches(20).Single();
        using CalibrationBatch b = fromNpz.ReadBatches(20).Single();
        foreach (string name in order)
        {
            Assert.That(a[name].GetTensorTypeAndShape().Shape, Is.EqualTo(b[name].GetTensorTypeAndShape().Shape), name);
            Assert.That(a[name].GetTensorMutableRawData().SequenceEqual(b[name].GetTensorMutableRawData()), Is.True, name);
        }
    }

    private static long[] RunFirstOutputShape(ModelProto model, CalibrationBatch batch)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model.ToByteArray(), options);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, batch.InputNames, batch.Values, [session.OutputNames[0]]);
        return outputs[0].GetTensorTypeAndShape().Shape;
    }
}
