from nyprod_kit.uow import UnitOfWork

from .repo import BuyerRepo, ErasedProspectRepo, LinkRepo, UnitNameRepo


class BuyersUnitOfWork(UnitOfWork):
    buyers: BuyerRepo
    links: LinkRepo
    unit_names: UnitNameRepo
    erased: ErasedProspectRepo

    def on_enter(self) -> None:
        self.buyers = BuyerRepo(self.session)
        self.links = LinkRepo(self.session)
        self.unit_names = UnitNameRepo(self.session)
        self.erased = ErasedProspectRepo(self.session)
