import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  CreateSoftwareHouse, DeleteSoftwareHouse, DisableSoftwareHouse, GetSoftwareHouse, ListSoftwareHouses, UpdateSoftwareHouse,
} from '@app/domain/admin';
import { OperatorGuard } from '../shared/guards';
import { jsonSchema, parseBody, parseQuery } from '../shared/validation';
import { ListQuery, SoftwareHouseCreate, SoftwareHouseUpdate } from './dto';

@ApiTags('operator: software houses')
@ApiBearerAuth('operator')
@UseGuards(OperatorGuard)
@Controller('v1/software-houses')
export class SoftwareHousesController {
  constructor(
    private readonly create: CreateSoftwareHouse,
    private readonly list: ListSoftwareHouses,
    private readonly get: GetSoftwareHouse,
    private readonly update: UpdateSoftwareHouse,
    private readonly disable: DisableSoftwareHouse,
    private readonly remove: DeleteSoftwareHouse,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a software house' })
  @ApiBody({ schema: jsonSchema(SoftwareHouseCreate) })
  createOne(@Body() body: unknown) {
    return this.create.execute(parseBody(SoftwareHouseCreate, body));
  }

  @Get()
  @ApiOperation({ summary: 'List software houses (cursor pagination by id)' })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  @ApiQuery({ name: 'cursor', required: false, type: String })
  listAll(@Query() query: unknown) {
    return this.list.execute(parseQuery(ListQuery, query));
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read a software house' })
  getOne(@Param('id', ParseUUIDPipe) id: string) {
    return this.get.execute(id);
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Update a software house',
    description: "A new dojoSoftwareHouseId or resellerId bumps every one of its locations' configVersion: their links re-dial with it at once.",
  })
  @ApiBody({ schema: jsonSchema(SoftwareHouseUpdate) })
  updateOne(@Param('id', ParseUUIDPipe) id: string, @Body() body: unknown) {
    return this.update.execute(id, parseBody(SoftwareHouseUpdate, body));
  }

  @Post(':id/disable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Disable every location of a software house' })
  disableOne(@Param('id', ParseUUIDPipe) id: string) {
    return this.disable.execute(id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a software house that has no locations' })
  async deleteOne(@Param('id', ParseUUIDPipe) id: string) {
    await this.remove.execute(id);
  }
}
