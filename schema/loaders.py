"""DataLoaders for the fields resolved once per parent: one batch per list, however long the list.

A field such as `Seeker.referrals` runs once for every seeker of a page; through a loader, all of
them are answered by one call of a resolvers/ function that takes many ids (and applies the policy
to each, as the one-id function does), so the statements a request costs do not grow with its
parents. Loaders are made for each operation and for each subscription event (`Context.fresh`):
never shared by two requests, two sockets' operations or two events, so nothing one viewer loaded
is handed to another, and no event sees what an earlier one loaded. Each loader is also keyed by
the viewer as acting for one root field (the audit log names the operation), and by the field's
arguments.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar

from strawberry.dataloader import DataLoader

from db.enrollments import Enrollment
from db.referrals import Referral
from db.seekers import Seeker
from resolvers.enrollments import households_of
from resolvers.pagination import Page
from resolvers.referrals import referrals_of_seekers
from resolvers.runtime import Runtime
from resolvers.seekers import Profile, profiles_for
from resolvers.viewer import Viewer

K = TypeVar("K")
V = TypeVar("V")
M = TypeVar("M")


class _ByModel(Generic[M, V]):
    """A loader keyed by a loaded model's id, whose batch function takes the models themselves."""

    def __init__(self, batch: Callable[[list[M]], Awaitable[Sequence[V]]]) -> None:
        self.models: dict[int, M] = {}

        async def load_many(ids: list[int]) -> Sequence[V]:
            return await batch([self.models[i] for i in ids])

        self.loader: DataLoader[int, V] = DataLoader(load_fn=load_many)

    async def load(self, model_id: int, model: M) -> V:
        self.models.setdefault(model_id, model)
        return await self.loader.load(model_id)


class Loaders:
    """The loaders of one operation (or one subscription event)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._loaders: dict[Hashable, Any] = {}

    def _get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        if key not in self._loaders:
            self._loaders[key] = make()
        return self._loaders[key]

    async def seeker_referrals(self, viewer: Viewer, seeker_id: int, *, first: int, after: str | None) -> Page[Referral]:
        """A seeker's referrals that the viewer may see, one page."""

        def make() -> DataLoader[int, Page[Referral]]:
            async def load(ids: list[int]) -> list[Page[Referral]]:
                pages = await referrals_of_seekers(self.runtime, viewer, ids, first=first, after=after)
                return [pages[i] for i in ids]

            return DataLoader(load_fn=load)

        loader: DataLoader[int, Page[Referral]] = self._get(("seeker_referrals", viewer, viewer.operation, first, after), make)
        return await loader.load(seeker_id)

    async def profile(self, viewer: Viewer, seeker: Seeker) -> Profile:
        """A loaded seeker as the viewer may see them."""

        def make() -> _ByModel[Seeker, Profile]:
            async def batch(seekers: list[Seeker]) -> list[Profile]:
                return await profiles_for(self.runtime, viewer, seekers)

            return _ByModel(batch)

        loader: _ByModel[Seeker, Profile] = self._get(("profile", viewer, viewer.operation), make)
        return await loader.load(seeker.id, seeker)

    async def household(self, viewer: Viewer, enrollment: Enrollment) -> list[Enrollment]:
        """Everyone enrolled with this person, where the viewer may see the household."""

        def make() -> _ByModel[Enrollment, list[Enrollment]]:
            async def batch(enrollments: list[Enrollment]) -> list[list[Enrollment]]:
                households = await households_of(self.runtime, viewer, enrollments)
                return [households[e.id] for e in enrollments]

            return _ByModel(batch)

        loader: _ByModel[Enrollment, list[Enrollment]] = self._get(("household", viewer, viewer.operation), make)
        return await loader.load(enrollment.id, enrollment)
