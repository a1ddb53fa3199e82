package io.stratus.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.ObjectStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobCatalogTest {

  @TempDir
  Path dir;

  private ObjectStore objects;
  private JobCatalog catalog;

  /** A factory of {@link TotalsJob}s that records every context it was given. */
  static final class TotalsFactory implements JobFactory {
    private final String name;
    private final Function<String, String> builtName;
    final List<Context> contexts = new ArrayList<>();
    final AtomicInteger creates = new AtomicInteger();

    TotalsFactory(String name) {
      this(name, n -> n);
    }

    /** A factory named {@code name} whose jobs are named {@code builtName.apply(name)}. */
    TotalsFactory(String name, Function<String, String> builtName) {
      this.name = name;
      this.builtName = builtName;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public String description() {
      return "running totals per user";
    }

    @Override
    public Map<String, String> parameters() {
      return Map.of("events", "payments in the stream (default 100)",
          "parallelism", "the totals operator's parallelism (default 1)");
    }

    @Override
    public JobDefinition create(Context context) {
      creates.incrementAndGet();
      contexts.add(context);
      long events = context.getLong("events", 100, 1);
      int parallelism = (int) context.getLong("parallelism", 1, 1);
      return TotalsJob.definition(builtName.apply(name), context.objects(), "out/" + name,
          context.localDir(), parallelism, events, CheckpointConfig.defaults(),
          RestartStrategy.none());
    }
  }

  @BeforeEach
  void setUp() {
    objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    catalog = new JobCatalog(objects, dir.resolve("local"));
  }

  private JobDefinition definition(String name) {
    return TotalsJob.definition(name, objects, "out/" + name, dir.resolve("rocksdb"), 1, 10,
        CheckpointConfig.defaults(), RestartStrategy.none());
  }

  @Test
  void aRegisteredFactoryIsFoundByName() {
    TotalsFactory factory = new TotalsFactory("totals");
    catalog.register(factory);
    assertSame(factory, catalog.factory("totals"));
    JobDefinition job = catalog.get("totals", Map.of("events", "50", "parallelism", "2"));
    assertEquals("totals", job.name());
    assertEquals(List.of(TotalsJob.OPERATOR), job.rescalableOperators());
    assertEquals(2, job.runtime().parallelism());

    assertEquals(1, factory.contexts.size());
    JobFactory.Context context = factory.contexts.get(0);
    assertEquals(Map.of("events", "50", "parallelism", "2"), context.parameters());
    assertSame(objects, context.objects());
    assertEquals(dir.resolve("local").resolve("totals"), context.localDir());
  }

  @Test
  void aCatalogWithoutALocalDirectoryGivesFactoriesNone() {
    JobCatalog bare = new JobCatalog();
    TotalsFactory factory = new TotalsFactory("totals");
    bare.register(factory);
    bare.get("totals");
    assertNull(factory.contexts.get(0).localDir());
    assertNull(factory.contexts.get(0).objects());
  }

  @Test
  void anUnknownParameterIsRefusedByNameListingTheKnownOnes() {
    TotalsFactory factory = new TotalsFactory("totals");
    catalog.register(factory);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> catalog.get("totals", Map.of("events", "5", "speed", "9")));
    assertEquals("job 'totals' has no parameter 'speed'; its parameters: [events, parallelism]",
        e.getMessage());
    assertEquals(0, factory.creates.get());
  }

  @Test
  void anInvalidParameterValueIsRefusedByTheFactory() {
    TotalsFactory factory = new TotalsFactory("totals");
    catalog.register(factory);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> catalog.get("totals", Map.of("events", "many")));
    assertEquals("parameter 'events' must be a whole number, was 'many'", e.getMessage());
    // Nothing was cached: the next valid request builds its job.
    assertEquals("totals", catalog.get("totals", Map.of("events", "3")).name());
  }

  @Test
  void anUnknownJobListsTheKnownNames() {
    catalog.register(new TotalsFactory("totals"));
    catalog.register(definition("payments"));
    UnknownJobException e = assertThrows(UnknownJobException.class,
        () -> catalog.get("nope", Map.of()));
    assertEquals("no job named 'nope' in this binary; it has [payments, totals]",
        e.getMessage());
    assertThrows(UnknownJobException.class, () -> catalog.get("nope"));
    assertNull(catalog.factory("nope"));
    assertNull(catalog.factory("payments"));
  }

  @Test
  void theSameParametersGiveTheSameDefinition() {
    TotalsFactory factory = new TotalsFactory("totals");
    catalog.register(factory);
    Map<String, String> ordered = new LinkedHashMap<>();
    ordered.put("events", "10");
    ordered.put("parallelism", "2");
    Map<String, String> reversed = new LinkedHashMap<>();
    reversed.put("parallelism", "2");
    reversed.put("events", "10");

    JobDefinition first = catalog.get("totals", ordered);
    assertSame(first, catalog.get("totals", Map.of("events", "10", "parallelism", "2")));
    assertSame(first, catalog.get("totals", reversed));
    assertEquals(1, factory.creates.get());

    JobDefinition other = catalog.get("totals", Map.of("events", "11", "parallelism", "2"));
    assertNotSame(first, other);
    assertEquals(2, factory.creates.get());
    JobDefinition defaults = catalog.get("totals");
    assertNotSame(first, defaults);
    assertSame(defaults, catalog.get("totals", Map.of()));
    assertEquals(3, factory.creates.get());
  }

  @Test
  void aRegisteredDefinitionTakesNoParameters() {
    JobDefinition job = definition("payments");
    catalog.register(job);
    assertSame(job, catalog.get("payments"));
    assertSame(job, catalog.get("payments", Map.of()));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> catalog.get("payments", Map.of("events", "5")));
    assertEquals("job 'payments' takes no parameters, got [events]", e.getMessage());
  }

  @Test
  void twoJobsWithOneNameAreRefused() {
    catalog.register(new TotalsFactory("totals"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> catalog.register(new TotalsFactory("totals")));
    assertEquals("two jobs are named 'totals'", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> catalog.register(definition("totals")));
    assertEquals("a job named 'totals' is registered already", e.getMessage());

    JobDefinition payments = definition("payments");
    catalog.register(payments);
    catalog.register(payments); // the same definition again is harmless
    e = assertThrows(IllegalArgumentException.class,
        () -> catalog.register(definition("payments")));
    assertEquals("a job named 'payments' is registered already", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> catalog.register(new TotalsFactory("payments")));
    assertEquals("two jobs are named 'payments'", e.getMessage());
    assertSame(payments, catalog.get("payments"));
    assertNull(catalog.factory("payments"));
  }

  @Test
  void namesAreSortedAndIncludeBothKinds() {
    assertEquals(List.of(), catalog.names());
    catalog.register(new TotalsFactory("zeta"));
    catalog.register(definition("beta"));
    catalog.register(new TotalsFactory("alpha"));
    catalog.register(definition("gamma"));
    assertEquals(List.of("alpha", "beta", "gamma", "zeta"), catalog.names());
  }

  @Test
  void aFactoryThatBuildsAJobOfAnotherNameFails() {
    TotalsFactory liar = new TotalsFactory("asked", n -> "built");
    catalog.register(liar);
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> catalog.get("asked"));
    assertEquals("job factory " + TotalsFactory.class.getName() + " is named 'asked' but "
        + "built a job named 'built'", e.getMessage());
    // Not cached: asking again builds (and fails) again.
    assertThrows(IllegalStateException.class, () -> catalog.get("asked"));
    assertEquals(2, liar.creates.get());
  }

  @Test
  void contextGetLongParsesChecksAndDefaults() {
    JobFactory.Context context = new JobFactory.Context(Map.of("events", " 42 ", "bad", "4x",
        "zero", "0", "negative", "-3", "huge", "99999999999999999999"), null, null);
    assertEquals(7, context.getLong("absent", 7, 1));
    assertEquals(42, context.getLong("events", 7, 1));
    assertEquals(0, context.getLong("zero", 7, 0));
    assertEquals(-3, context.getLong("negative", 7, Long.MIN_VALUE));

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> context.getLong("bad", 7, 1));
    assertEquals("parameter 'bad' must be a whole number, was '4x'", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> context.getLong("huge", 7, 1));
    assertEquals("parameter 'huge' must be a whole number, was '99999999999999999999'",
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> context.getLong("zero", 7, 1));
    assertEquals("parameter 'zero' must be at least 1, was 0", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> context.getLong("negative", 7, 0));
    assertEquals("parameter 'negative' must be at least 0, was -3", e.getMessage());

    assertEquals(" 42 ", context.get("events", "x"));
    assertEquals("x", context.get("absent", "x"));
  }
}
