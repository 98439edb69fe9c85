from collections.abc import Sequence

from contracts.envelope import Event

from nyprod_kit.uow import UnitOfWork

from .repo import BookingClaimRepo, BuyerRepo, ErasedProspectRepo, LinkRepo, UnitNameRepo


class BuyersUnitOfWork(UnitOfWork):
    buyers: BuyerRepo
    links: LinkRepo
    unit_names: UnitNameRepo
    erased: ErasedProspectRepo
    claims: BookingClaimRepo

    def on_enter(self) -> None:
        self.buyers = BuyerRepo(self.session)
        self.links = LinkRepo(self.session)
        self.unit_names = UnitNameRepo(self.session)
        self.erased = ErasedProspectRepo(self.session)
        self.claims = BookingClaimRepo(self.session)

    async def on_batch(self, events: Sequence[Event]) -> None:
        # a buyer copy is only made for a prospect not erased: asked once for the whole batch
        await self.erased.read(p.prospect_id for e in events if (p := getattr(e, "prospect", None)) is not None)
