namespace Compress.Core.Tests; public class SmokeTests { [Test] public void ProtoTypesExist() => Assert.That(new Compress.Core.Onnx.Proto.ModelProto().IrVersion, Is.Zero); }
