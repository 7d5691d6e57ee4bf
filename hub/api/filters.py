"""django-filter backend that also filters history (``?as_of`` answers from historical models)."""

from functools import cache

from django_filters.rest_framework import DjangoFilterBackend


@cache
def _for_model(filterset_class: type, model: type) -> type:
    meta = type("Meta", (filterset_class.Meta,), {"model": model})
    return type(f"{model.__name__}FilterSet", (filterset_class,), {"Meta": meta})


class AsOfAwareFilterBackend(DjangoFilterBackend):
    """Historical rows carry the live model's attributes, so the live FilterSet applies to them as is."""

    def get_filterset_class(self, view, queryset=None):
        filterset_class = getattr(view, "filterset_class", None)
        if filterset_class is not None and queryset is not None:
            live = filterset_class._meta.model
            instance_type = getattr(queryset.model, "instance_type", None)
            if queryset.model is not live and instance_type is live:
                return _for_model(filterset_class, queryset.model)
        return super().get_filterset_class(view, queryset)
