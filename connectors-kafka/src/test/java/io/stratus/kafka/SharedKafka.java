package io.stratus.kafka;

import io.stratus.kafka.embedded.EmbeddedKafka;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * One in-process broker for every Kafka test class of a run (each takes seconds to start): a
 * parameter of type {@link EmbeddedKafka} gets it. JUnit closes it when the run ends (the root
 * store closes what it holds). Test classes use topic names of their own.
 */
final class SharedKafka implements ParameterResolver {

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == EmbeddedKafka.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
        .computeIfAbsent(SharedKafka.class, k -> EmbeddedKafka.start(), EmbeddedKafka.class);
  }
}
