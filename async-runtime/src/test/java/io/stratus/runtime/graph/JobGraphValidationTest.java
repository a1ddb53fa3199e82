package io.stratus.runtime.graph;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.DataStream;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.CollectingSink;
import io.stratus.runtime.source.SequenceSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** A job graph that cannot run is refused when it is built, with a message naming the step. */
class JobGraphValidationTest {

  static final class Echo extends KeyedProcessFunction<Long, Long, Long> {
    @Override
    public void processElement(Long value, Context<Long> context, Collector<Long> out) {
      out.collect(value);
    }
  }

  private static String refusal(Consumer<StreamEnvironment> job) {
    StreamEnvironment env = StreamEnvironment.plan(RuntimeConfig.defaults().withParallelism(2));
    job.accept(env);
    return assertThrows(IllegalArgumentException.class, () -> env.graph("bad")).getMessage();
  }

  private static DataStream<Long> numbers(StreamEnvironment env) {
    return env.fromSource(new SequenceSource(1, 10), WatermarkStrategy.noWatermarks(),
        "numbers");
  }

  private static void assertMentions(String message, String... parts) {
    for (String p : parts) {
      assertTrue(message.contains(p), "'" + p + "' missing in: " + message);
    }
  }

  @Test
  void anExchangeWhoseRecordsHaveNoSerdeNamesTheStepAndTheFix() {
    String m = refusal(env -> numbers(env).map(n -> "#" + n)
        .keyBy(s -> (long) s.length(), Serdes.LONG).process(
            new KeyedProcessFunction<Long, String, String>() {
              @Override
              public void processElement(String v, Context<Long> c, Collector<String> out) {
                out.collect(v);
              }
            }, "lengths")
        .sinkTo(new CollectingSink<>()));
    assertMentions(m, "step 'map' (#2)", "hash exchange", "serde is unknown", ".returns(");
  }

  @Test
  void aRebalanceAfterALambdaNeedsReturnsButAChainedLambdaDoesNot() {
    StreamEnvironment ok = StreamEnvironment.plan(RuntimeConfig.defaults());
    numbers(ok).map(n -> n + 1).filter(n -> n > 0).sinkTo(new CollectingSink<>());
    ok.graph("chained");

    String m = refusal(env -> numbers(env).map(n -> n + 1).rebalance()
        .filter(n -> n > 0).setParallelism(3).sinkTo(new CollectingSink<>()));
    assertMentions(m, "step 'map'", "rebalance exchange");
  }

  @Test
  void keyByMustBeFollowedByAKeyedOperation() {
    // Only a hand-made graph can say it: the stream API has no such method.
    Transformation source = new Transformation.SourceNode(1, "numbers",
        new SequenceSource(1, 10), WatermarkStrategy.noWatermarks(), 1);
    Transformation sink = new Transformation.SinkNode(2, "sink", new CollectingSink<>(), 0);
    String m = assertThrows(IllegalArgumentException.class, () -> new JobGraph("bad",
        List.of(source, sink), List.of(new StreamEdge(1, 2,
            new Partitioning.Hash(n -> n, Serdes.LONG), Serdes.LONG)))).getMessage();
    assertMentions(m, "step 'sink' (#2)", "keyBy must be followed by a keyed operation");
  }

  @Test
  void aKeyedOperationNeedsKeyByBeforeIt() {
    Transformation source = new Transformation.SourceNode(1, "numbers",
        new SequenceSource(1, 10), WatermarkStrategy.noWatermarks(), 1);
    Transformation keyed = new Transformation.KeyedProcessNode(2, "echo", "echo", new Echo(), 0,
        new LinkedHashMap<>());
    Transformation sink = new Transformation.SinkNode(3, "sink", new CollectingSink<>(), 0);
    String m = assertThrows(IllegalArgumentException.class, () -> new JobGraph("bad",
        List.of(source, keyed, sink), List.of(
            new StreamEdge(1, 2, new Partitioning.Rebalance(), Serdes.LONG),
            new StreamEdge(2, 3, new Partitioning.Default(), null)))).getMessage();
    assertMentions(m, "step 'echo' (#2)", "needs keyBy before it", "rebalance");
  }

  @Test
  void aCycleIsRefusedNamingItsSteps() {
    Transformation source = new Transformation.SourceNode(1, "numbers",
        new SequenceSource(1, 10), WatermarkStrategy.noWatermarks(), 1);
    Transformation a = new Transformation.MapNode(2, "a", n -> n, 0);
    Transformation b = new Transformation.MapNode(3, "b", n -> n, 0);
    Transformation sink = new Transformation.SinkNode(4, "sink", new CollectingSink<>(), 0);
    String m = assertThrows(IllegalArgumentException.class, () -> new JobGraph("loop",
        List.of(source, a, b, sink), List.of(
            new StreamEdge(1, 2, new Partitioning.Default(), null),
            new StreamEdge(2, 3, new Partitioning.Default(), null),
            new StreamEdge(3, 2, new Partitioning.Rebalance(), Serdes.LONG),
            new StreamEdge(3, 4, new Partitioning.Default(), null)))).getMessage();
    assertMentions(m, "job 'loop' has a cycle", "'a' (#2)", "'b' (#3)");
  }

  @Test
  void anOutputThatGoesNowhereIsRefused() {
    String m = refusal(env -> {
      DataStream<Long> n = numbers(env);
      n.sinkTo(new CollectingSink<>());
      n.map(x -> x * 2);
    });
    assertMentions(m, "step 'map' (#3)", "goes nowhere", "sinkTo");
  }

  @Test
  void duplicateNamesAndUidsAreRefused() {
    assertMentions(refusal(env -> {
      numbers(env).sinkTo(new CollectingSink<>(), "out");
      numbers(env).filter(x -> true).sinkTo(new CollectingSink<>(), "out");
    }), "another source has the name 'numbers'");
    assertMentions(refusal(env -> {
      DataStream<Long> n = numbers(env);
      n.sinkTo(new CollectingSink<>(), "out");
      n.sinkTo(new CollectingSink<>(), "out");
    }), "another sink has the name 'out'");
    assertMentions(refusal(env -> {
      DataStream<Long> n = numbers(env);
      n.keyBy(x -> x, Serdes.LONG).process(new Echo(), "echo").sinkTo(new CollectingSink<>());
      n.keyBy(x -> x, Serdes.LONG).process(new Echo(), "echo").sinkTo(new CollectingSink<>());
    }), "another keyed operator has the uid 'echo'");
  }

  @Test
  void forwardBetweenDifferentParallelismIsRefused() {
    String m = refusal(env -> env.fromSource(new SequenceSource(1, 10),
            WatermarkStrategy.noWatermarks(), "numbers", 2)
        .forward().map(x -> x).setParallelism(3).sinkTo(new CollectingSink<>()));
    assertMentions(m, "step 'map' (#2)", "forward from 'numbers' needs equal parallelism", "2",
        "3");
  }

  @Test
  void parallelismBeyondTheKeyGroupsIsRefusedNamingTheStep() {
    String m = refusal(env -> numbers(env).keyBy(x -> x, Serdes.LONG)
        .process(new Echo(), "echo").setParallelism(1000).sinkTo(new CollectingSink<>()));
    assertMentions(m, "step 'echo'");
  }
}
